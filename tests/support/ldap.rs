//! A throwaway OpenLDAP server: Debian's `/usr/sbin/slapd` with a config of
//! its own (`slapd.conf`, one mdb database) in a scratch directory, loaded
//! with `slapadd` before it starts and listening on `ldap://127.0.0.1:<port>/`.
//! It runs as the `openldap` account when the test process is root, and is
//! killed when dropped (or by its watchdog when the test process dies).
//!
//! Users are `inetOrgPerson` entries under [`PEOPLE`], named by `uid`, with a
//! `userPassword` of `{CRYPT}<crypt(3) hash>`, which slapd checks with the C
//! library's `crypt()` on every simple bind. [`Slapd::whoami`] binds with
//! `ldapwhoami` (Debian package `ldap-utils`); [`BindConnection`] binds over a
//! socket of its own, for measuring binds without a process per bind.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::process::{self, free_port, new_base_dir, Watchdog};

pub const SUFFIX: &str = "dc=example,dc=org";
/// Where the users are: one level below it, nothing else.
pub const PEOPLE: &str = "ou=people,dc=example,dc=org";
/// The database's `rootdn`: may bind and read everything.
pub const ROOT_DN: &str = "cn=admin,dc=example,dc=org";
pub const ROOT_PASSWORD: &str = "slapd-root-password";

const SLAPD: &str = "/usr/sbin/slapd";
const SLAPADD: &str = "/usr/sbin/slapadd";
const ACCOUNT: &str = "openldap";
const START_ATTEMPTS: usize = 3;
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest an `ldapwhoami` may take before it is killed.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// One `inetOrgPerson` entry.
#[derive(Debug, Clone)]
pub struct LdapUser {
    pub uid: String,
    pub given_name: String,
    pub sn: String,
    pub mail: String,
    /// A crypt(3) hash such as `$6$salt$digest`; stored as `{CRYPT}` + this.
    pub crypt_hash: String,
}

/// What a simple bind came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Bind {
    Accepted,
    /// Result code 49: unknown DN or wrong password, which LDAP does not tell apart.
    InvalidCredentials,
    Failed(String),
}

/// A running slapd; killed on drop.
pub struct Slapd {
    pub port: u16,
    base: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Slapd {
    /// Writes the config, loads `users` and starts the server on a free port.
    pub fn start(users: &[LdapUser]) -> Slapd {
        for program in [SLAPD, SLAPADD] {
            assert!(
                process::is_executable(Path::new(program)),
                "OpenLDAP's {program} not found; install the Debian package `slapd` \
                 (see .ci/install-deps)"
            );
        }
        let as_root = process::is_root();
        if as_root {
            assert!(
                process::account_ids(ACCOUNT).is_some(),
                "running as root needs the system account `{ACCOUNT}` for slapd; it is \
                 created by the Debian package `slapd`"
            );
        }
        let base = new_base_dir("userstore-slapd-").unwrap_or_else(|e| panic!("slapd: {e}"));
        let watchdog = Watchdog::spawn(&base, "KILL").unwrap_or_else(|e| panic!("slapd: {e}"));
        let data = base.join("data");
        fs::create_dir(&data).unwrap_or_else(|e| panic!("slapd: creating {}: {e}", data.display()));
        let config = base.join("slapd.conf");
        fs::write(&config, slapd_conf(&base, &data)).expect("write slapd.conf");
        let ldif = base.join("users.ldif");
        fs::write(&ldif, users_ldif(users)).expect("write users.ldif");
        // -q: no consistency checks, as for a bulk load of known-good data.
        run(Command::new(SLAPADD)
            .arg("-q")
            .arg("-f")
            .arg(&config)
            .arg("-l")
            .arg(&ldif));
        if as_root {
            run(Command::new("chown")
                .arg("-R")
                .arg(format!("{ACCOUNT}:{ACCOUNT}"))
                .arg(&base));
        }

        let log = base.join("slapd.log");
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let log_file = fs::File::create(&log).expect("slapd log file");
            let mut command = Command::new(SLAPD);
            command
                .arg("-f")
                .arg(&config)
                .arg("-h")
                .arg(format!("ldap://127.0.0.1:{port}/"))
                // -d keeps slapd in the foreground, so it stays our child; level
                // "none" logs start, stop and errors (a port in use), nothing per operation.
                .args(["-d", "none"]);
            if as_root {
                command.args(["-u", ACCOUNT, "-g", ACCOUNT]);
            }
            let mut child = command
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("slapd log file"))
                .stderr(log_file)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {SLAPD}: {e}"));
            watchdog.watch_pid(child.id());
            if wait_ready(&mut child, port) {
                return Slapd {
                    port,
                    base,
                    log,
                    child: Some(child),
                };
            }
            // Most likely the port was taken meanwhile; the next attempt takes another.
            let _ = child.kill();
            let _ = child.wait();
        }
        let last_log = fs::read_to_string(&log).unwrap_or_default();
        let _ = fs::remove_dir_all(&base);
        panic!(
            "slapd did not accept connections in {START_ATTEMPTS} attempts; its log:\n{last_log}"
        );
    }

    /// `ldap://127.0.0.1:<port>/`
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}/", self.port)
    }

    /// The DN of the user `uid`.
    pub fn user_dn(uid: &str) -> String {
        format!("uid={},{PEOPLE}", escape_dn_value(uid))
    }

    /// The process id while it runs, e.g. to read its CPU time from `/proc`.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What slapd wrote to stdout and stderr so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A simple bind as `dn` with `password`, by `ldapwhoami -x`.
    pub fn whoami(&self, dn: &str, password: &str) -> Bind {
        let mut command = Command::new("ldapwhoami");
        command
            .args(["-x", "-o", "nettimeout=5", "-H"])
            .arg(self.url())
            .arg("-D")
            .arg(dn)
            .arg("-w")
            .arg(password)
            // Ignore /etc/ldap/ldap.conf and ~/.ldaprc.
            .env("LDAPNOINIT", "1");
        let output = match run_bounded(&mut command, CLIENT_TIMEOUT) {
            Ok(output) => output,
            Err(why) if why.contains("No such file") => panic!(
                "ldapwhoami not found; install the Debian package `ldap-utils` \
                 (see .ci/install-deps)"
            ),
            Err(why) => return Bind::Failed(why),
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        match output.status.code() {
            Some(0) => Bind::Accepted,
            Some(49) => Bind::InvalidCredentials,
            _ => Bind::Failed(format!("ldapwhoami: {}: {}", output.status, stderr.trim())),
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.kill();
        let _ = fs::remove_dir_all(&self.base);
    }
}

/// Waits until slapd accepts connections on `port`; false when it exited or
/// took longer than [`READY_TIMEOUT`].
fn wait_ready(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// `slapd -VV`'s version, e.g. `2.5.13+dfsg-5`.
pub fn slapd_version() -> String {
    let Ok(output) = Command::new(SLAPD).arg("-VV").output() else {
        return "unknown".to_owned();
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    text.split_once("slapd ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or("unknown")
        .to_owned()
}

fn slapd_conf(base: &Path, data: &Path) -> String {
    let base = base.display();
    let data = data.display();
    format!(
        "include /etc/ldap/schema/core.schema\n\
         include /etc/ldap/schema/cosine.schema\n\
         include /etc/ldap/schema/inetorgperson.schema\n\
         modulepath /usr/lib/ldap\n\
         moduleload back_mdb\n\
         pidfile {base}/slapd.pid\n\
         argsfile {base}/slapd.args\n\
         loglevel none\n\
         \n\
         database mdb\n\
         maxsize 1073741824\n\
         suffix \"{SUFFIX}\"\n\
         rootdn \"{ROOT_DN}\"\n\
         rootpw \"{ROOT_PASSWORD}\"\n\
         directory {data}\n\
         index objectClass eq\n\
         index uid eq\n\
         index entryUUID eq\n\
         index mail eq\n\
         # Anyone may bind with a password, nobody may read one.\n\
         access to attrs=userPassword by anonymous auth by * none\n\
         access to * by * read\n"
    )
}

fn users_ldif(users: &[LdapUser]) -> String {
    let mut out = format!(
        "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n\
         dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n"
    );
    for user in users {
        let cn = format!("{} {}", user.given_name, user.sn);
        out.push_str(&ldif_line("dn", &Slapd::user_dn(&user.uid)));
        out.push_str("objectClass: inetOrgPerson\n");
        for (attribute, value) in [
            ("uid", user.uid.as_str()),
            ("cn", &cn),
            ("sn", &user.sn),
            ("givenName", &user.given_name),
            ("mail", &user.mail),
            ("userPassword", &format!("{{CRYPT}}{}", user.crypt_hash)),
        ] {
            out.push_str(&ldif_line(attribute, value));
        }
        out.push('\n');
    }
    out
}

/// `attribute: value`, or `attribute:: base64` where LDIF (RFC 2849) needs it.
fn ldif_line(attribute: &str, value: &str) -> String {
    let safe = value
        .bytes()
        .all(|b| (0x01..0x80).contains(&b) && b != b'\n' && b != b'\r')
        && !value.starts_with([' ', ':', '<'])
        && !value.ends_with(' ');
    if safe {
        format!("{attribute}: {value}\n")
    } else {
        let encoded = base64::engine::general_purpose::STANDARD.encode(value);
        format!("{attribute}:: {encoded}\n")
    }
}

/// An attribute value as it may stand in a DN (RFC 4514).
fn escape_dn_value(value: &str) -> String {
    let last = value.chars().count().saturating_sub(1);
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && matches!(c, ' ' | '#'))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} does not start: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `command` to its end, killing it after `limit`.
fn run_bounded(command: &mut Command, limit: Duration) -> Result<Output, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{command:?}: {e}"))?;
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                // The output of these clients is a line or two: it fits the pipes.
                let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
                if let Some(mut pipe) = child.stdout.take() {
                    let _ = pipe.read_to_end(&mut stdout);
                }
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_end(&mut stderr);
                }
                return Ok(Output {
                    status,
                    stdout,
                    stderr,
                });
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{command:?} did not finish within {limit:?}"));
            }
            Err(e) => return Err(format!("{command:?}: {e}")),
        }
    }
}

// ---------------------------------------------------------------------------
// Binds over a socket of our own

/// One LDAP connection that does simple binds (RFC 4511 BindRequest, version 3),
/// one after the other, as a directory's clients do.
pub struct BindConnection {
    stream: TcpStream,
    next_id: i32,
}

impl BindConnection {
    pub async fn connect(port: u16) -> std::io::Result<BindConnection> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        Ok(BindConnection { stream, next_id: 1 })
    }

    /// A simple bind as `dn`; the connection stays usable for the next bind
    /// whatever the answer was.
    pub async fn bind(&mut self, dn: &str, password: &str) -> std::io::Result<Bind> {
        let id = self.next_id;
        self.next_id = if id == i32::MAX { 1 } else { id + 1 };
        self.stream
            .write_all(&bind_request(id, dn, password))
            .await?;
        let message = read_message(&mut self.stream).await?;
        Ok(match bind_result_code(&message, id) {
            Some(0) => Bind::Accepted,
            Some(49) => Bind::InvalidCredentials,
            Some(code) => Bind::Failed(format!("LDAP result code {code}")),
            None => Bind::Failed(format!("not a BindResponse to {id}: {message:02x?}")),
        })
    }
}

/// BER: tag, definite length, contents.
fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = contents.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(contents);
    out
}

/// The shortest two's-complement form, as BER wants for INTEGER.
fn ber_integer(value: i32) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    while start < 3
        && ((bytes[start] == 0 && bytes[start + 1] & 0x80 == 0)
            || (bytes[start] == 0xff && bytes[start + 1] & 0x80 != 0))
    {
        start += 1;
    }
    tlv(0x02, &bytes[start..])
}

fn bind_request(id: i32, dn: &str, password: &str) -> Vec<u8> {
    let mut bind = ber_integer(3);
    bind.extend(tlv(0x04, dn.as_bytes()));
    // [0] simple
    bind.extend(tlv(0x80, password.as_bytes()));
    let mut message = ber_integer(id);
    // [APPLICATION 0] BindRequest
    message.extend(tlv(0x60, &bind));
    tlv(0x30, &message)
}

/// Reads one LDAPMessage (an outer SEQUENCE) and returns its contents.
async fn read_message(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let tag = stream.read_u8().await?;
    if tag != 0x30 {
        return Err(std::io::Error::other(format!(
            "LDAP message starts with {tag:#04x}"
        )));
    }
    let first = stream.read_u8().await?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return Err(std::io::Error::other("unsupported BER length"));
        }
        let mut length = 0usize;
        for _ in 0..count {
            length = length << 8 | usize::from(stream.read_u8().await?);
        }
        length
    };
    let mut contents = vec![0; length];
    stream.read_exact(&mut contents).await?;
    Ok(contents)
}

/// The resultCode of a BindResponse with message id `id`.
fn bind_result_code(message: &[u8], id: i32) -> Option<u8> {
    let expected_id = ber_integer(id);
    let rest = message.strip_prefix(expected_id.as_slice())?;
    // [APPLICATION 1] BindResponse, then LDAPResult's ENUMERATED resultCode.
    let (&tag, rest) = rest.split_first()?;
    if tag != 0x61 {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let rest = if first < 0x80 {
        rest
    } else {
        rest.get(usize::from(first & 0x7f)..)?
    };
    match rest {
        [0x0a, 0x01, code, ..] => Some(*code),
        _ => None,
    }
}
