-- Demo users for `userstore-gateway demo`, the README's examples and
-- docker-compose. Portable SQL: it loads unchanged into PostgreSQL,
-- MariaDB/MySQL and SQLite after the schema files of migrations/<dialect>/.
--
-- Passwords (demo only):
--   mmustermann  B1Systems!   (the sample user of the reference schema)
--   jdoe         demo-password-1
--   asmith       demo-password-2
--   nopass       (no password: NULL hash, cannot log in with a password)
INSERT INTO users (id, createdtimestamp, email, email_verified, firstname, lastname, password_hash, username) VALUES
  ('1', 1700000000000, 'm.mustermann@example.test', FALSE, 'Max', 'Mustermann',
   '$6$xyz$C/vOVAshxi1VfgblFW220kcBCpZ7lihIohmNInE5M6wCQdxDaleG6LZzzGiRJ8sOWQHGwtYuz.8kcfZntV1OY/', 'mmustermann'),
  ('2', 1700000100000, 'jane.doe@example.test', TRUE, 'Jane', 'Doe',
   '$6$rounds=10000$demosaltjdoe$bX2sIlSVExBx2NBRsaNUNusFyUc9WlBT0VWaSnRJRClp8L2osHdwab9I8JUPoCrrHCPiObwvH84St9Stv1y4k1', 'jdoe'),
  ('3', 1700000200000, 'alice.smith@example.test', TRUE, 'Alice', 'Smith',
   '$2b$10$abcdefghijklmnopqrstuujWhaK/ZiG06Pvu9jrdqk9t8ts5R6y8m', 'asmith'),
  ('4', 1700000300000, 'no.password@example.test', FALSE, 'Nora', 'Nopass',
   NULL, 'nopass');

INSERT INTO realm_roles (id, role) VALUES
  ('r1', 'testrole'),
  ('r2', 'user'),
  ('r3', 'auditor');

INSERT INTO users_to_realm_roles (user_id, realm_role_id) VALUES
  ('1', 'r1'), ('1', 'r2'), ('2', 'r2'), ('3', 'r2'), ('3', 'r3');

INSERT INTO client_roles (id, client, role) VALUES
  ('c1', 'testclient', 'admin'),
  ('c2', 'testclient', 'viewer'),
  ('c3', 'reports', 'reader');

INSERT INTO users_to_client_roles (user_id, client_role_id) VALUES
  ('1', 'c1'), ('2', 'c2'), ('3', 'c2'), ('3', 'c3');
