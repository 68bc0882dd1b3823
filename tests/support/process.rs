//! Process plumbing shared by the server launchers: scratch directories,
//! privilege checks, binary lookup, free ports, and the two cleanup layers
//! that make sure no throwaway server outlives the test process.
//!
//! Cleanup happens in two layers because statics are never dropped:
//!
//! 1. **Exit hooks** ([`at_exit`]): on a normal exit of the test binary
//!    (all tests passed, or libtest exiting with 101 after failures) libc's
//!    `atexit` runs them. They stop the servers, *reap* them and remove their
//!    directories before the process is gone, so `cargo test` returns with
//!    nothing left behind. Reaping matters: on machines whose PID 1 does not
//!    reap orphans (minimal container/VM inits), a server that merely gets
//!    killed after its parent has exited stays around as a zombie forever.
//! 2. **Watchdog** ([`Watchdog`]): a tiny `sh` process, started before the
//!    server, whose stdin is a pipe that only the test process can write to.
//!    When the test process dies in any way (SIGKILL, abort, Ctrl-C) the
//!    kernel closes that pipe, `read` sees EOF, and the watchdog kills the
//!    server and deletes its directory. It lives in its own process group so
//!    that a Ctrl-C on the terminal does not take it down together with the
//!    tests. Unlike `PR_SET_PDEATHSIG`, this keeps working when the server
//!    changes user (sudo, `mariadbd --user`), which clears the death signal,
//!    and it does not fire early when the thread that spawned the server
//!    exits.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Mutex, Once, PoisonError, TryLockError};

/// True when the test process runs as root. The servers refuse to run as
/// root, so they are then started as their Debian service accounts.
pub(super) fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Numeric uid and gid of a local account, or `None` if it does not exist.
pub(super) fn account_ids(user: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").arg(flag).arg(user).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

/// Looks a program up in `$PATH`, then in the given extra directories
/// (`/usr/sbin` is often not in a CI user's `PATH`).
pub(super) fn find_program(name: &str, extra_dirs: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra_dirs.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

pub(super) fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Where server data goes: `/dev/shm` when it is usable, else the normal
/// temp dir. tmpfs matters a lot: on a plain disk `mariadb-install-db`
/// takes ~3.5 s instead of ~0.5 s and `initdb` ~1.4 s instead of ~0.8 s.
pub(super) fn scratch_root() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let usable = shm.is_dir()
        && tempfile::Builder::new()
            .prefix(".userstore-probe-")
            .tempfile_in(shm)
            .is_ok();
    if usable {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Creates a fresh directory under [`scratch_root`] that is *not* removed
/// automatically (its watchdog or exit hook removes it). Mode 0755 so that
/// the `postgres`/`mysql` service accounts can reach their data inside.
pub(super) fn new_base_dir(prefix: &str) -> Result<PathBuf, String> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(scratch_root())
        .map_err(|e| format!("cannot create a temp dir: {e}"))?
        .keep();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("chmod {}: {e}", dir.display()))?;
    Ok(dir)
}

/// A currently free TCP port on 127.0.0.1. Another process may grab it
/// before the server binds it; callers retry on "address in use".
pub(super) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("cannot bind a probe socket on 127.0.0.1")
        .port()
}

/// Message of a panic payload caught with `catch_unwind` / a `JoinError`.
pub(super) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

// ---------------------------------------------------------------------------
// Exit hooks

type Hook = Box<dyn FnOnce() + Send>;
static EXIT_HOOKS: Mutex<Vec<Hook>> = Mutex::new(Vec::new());

unsafe extern "C" {
    // From the C library, which std already links. Handlers run on `exit()`,
    // i.e. after `main` returns and on `std::process::exit`.
    fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
}

/// Runs `hook` when the test process exits normally. Hooks run in reverse
/// order of registration, so a server registered after its watchdog is
/// stopped before the watchdog is told to clean up.
pub(super) fn at_exit(hook: impl FnOnce() + Send + 'static) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // SAFETY: registers a plain `extern "C" fn()` that never unwinds.
        let rc = unsafe { atexit(run_exit_hooks) };
        assert_eq!(rc, 0, "atexit() failed");
    });
    EXIT_HOOKS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Box::new(hook));
}

extern "C" fn run_exit_hooks() {
    let hooks = match EXIT_HOOKS.try_lock() {
        Ok(mut hooks) => std::mem::take(&mut *hooks),
        Err(TryLockError::Poisoned(p)) => std::mem::take(&mut *p.into_inner()),
        // Some thread is registering right now; the watchdogs will do it.
        Err(TryLockError::WouldBlock) => return,
    };
    for hook in hooks.into_iter().rev() {
        // A panic must not cross the C boundary; the watchdog is the backup.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(hook));
    }
}

// ---------------------------------------------------------------------------
// Watchdog

/// Positional arguments: $1 directory to delete, $2 signal for the servers.
/// Only processes whose command line mentions $1 are signalled, which
/// protects against killing a recycled pid.
/// stdin: one pid per line, registered by the test process; EOF means the
/// test process is gone. Servers whose pid the test process cannot know
/// (pgtemp starts postgres itself) are found via `*.pid` files in $1.
const WATCHDOG_SCRIPT: &str = r#"
trap '' INT HUP PIPE
dir=$1 sig=$2 pids=
while read -r pid; do pids="$pids $pid"; done
pids="$pids $(find "$dir" -maxdepth 3 -name '*.pid' -exec head -qn1 {} + 2>/dev/null)"
ours() {
  case $1 in ''|*[!0-9]*) return 1;; esac
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ] && grep -qaF -- "$dir" "/proc/$1/cmdline" 2>/dev/null
}
live=
for p in $pids; do
  if ours "$p"; then kill -s "$sig" "$p" 2>/dev/null; live="$live $p"; fi
done
n=0
while [ -n "$live" ] && [ $n -lt 100 ]; do
  sleep 0.1; n=$((n + 1)); still=
  for p in $live; do if ours "$p"; then still="$still $p"; fi; done
  live=$still
done
for p in $live; do kill -s KILL "$p" 2>/dev/null; done
rm -rf -- "$dir"
"#;

/// Handle on a watchdog process; see the module docs.
pub(super) struct Watchdog {
    stdin: Mutex<Option<ChildStdin>>,
}

impl Watchdog {
    /// Starts a watchdog that, once the test process is gone, sends `signal`
    /// (e.g. "QUIT") to the registered server processes and deletes `dir`.
    /// Its normal-exit cleanup is registered with [`at_exit`] right away.
    pub(super) fn spawn(dir: &Path, signal: &str) -> Result<&'static Watchdog, String> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .arg("userstore-test-watchdog")
            .arg(dir)
            .arg(signal)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Own process group: survives a terminal Ctrl-C to clean up.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start the watchdog shell `sh`: {e}"))?;
        // std creates the pipe with O_CLOEXEC, so no other child (servers,
        // other watchdogs) inherits the write end and delays the EOF.
        let stdin = child.stdin.take();
        let watchdog: &'static Watchdog = Box::leak(Box::new(Watchdog {
            stdin: Mutex::new(stdin),
        }));
        at_exit(move || {
            // Closing our end is the "test process is gone" signal.
            drop(
                watchdog
                    .stdin
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take(),
            );
            let _ = child.wait();
        });
        Ok(watchdog)
    }

    /// Registers a server pid to be killed if the test process dies.
    pub(super) fn watch_pid(&self, pid: u32) {
        if let Some(stdin) = self
            .stdin
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            let _ = writeln!(stdin, "{pid}");
        }
    }
}
