//! What every benchmark in `benches/` needs: sizes from the environment,
//! percentiles, process readings from `/proc`, the machine's description and
//! the JSON file of a run. Only the benches use this module.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{ensure, Context};
use serde_json::{json, Value};

/// True when the bench binary was started by `cargo bench` (which passes
/// `--bench`); false under `cargo test --all-targets`, where every benchmark
/// does a smoke run instead.
pub fn real_run() -> bool {
    std::env::args().skip(1).any(|arg| arg == "--bench")
}

/// A whole number from the environment variable `name`, `default` when unset.
pub fn number_from_env(
    name: &str,
    default: usize,
    min: usize,
    max: usize,
) -> anyhow::Result<usize> {
    let Ok(text) = std::env::var(name) else {
        return Ok(default);
    };
    let value: usize = text
        .trim()
        .parse()
        .with_context(|| format!("{name}={text:?} is not a whole number"))?;
    ensure!(
        (min..=max).contains(&value),
        "{name} must be within {min}..={max}, not {value}"
    );
    Ok(value)
}

/// Nearest-rank percentiles of a set of samples.
#[derive(Debug, Clone, Copy)]
pub struct Percentiles {
    pub count: usize,
    pub p50: Duration,
    pub p90: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Percentiles {
    /// None for no samples.
    pub fn of(samples: &[Duration]) -> Option<Self> {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let max = *sorted.last()?;
        Some(Self {
            count: sorted.len(),
            p50: nearest_rank(&sorted, 0.5),
            p90: nearest_rank(&sorted, 0.9),
            p95: nearest_rank(&sorted, 0.95),
            p99: nearest_rank(&sorted, 0.99),
            max,
        })
    }

    /// The percentiles in milliseconds, for the JSON file.
    pub fn to_json(self) -> Value {
        json!({
            "count": self.count,
            "p50_ms": ms(self.p50),
            "p90_ms": ms(self.p90),
            "p95_ms": ms(self.p95),
            "p99_ms": ms(self.p99),
            "max_ms": ms(self.max),
        })
    }
}

/// The sample at `quantile` (0..=1) of `sorted`, which must not be empty.
pub fn nearest_rank(sorted: &[Duration], quantile: f64) -> Duration {
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `duration` in milliseconds.
pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// How a measurement compares with its target, for the printed table.
pub fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

/// Cores this process may use.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(0, usize::from)
}

/// The three load averages of `/proc/loadavg`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// The CPU model, core count and memory of this machine, and the time.
pub fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or("unknown", |(_, model)| model.trim());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kib = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .unwrap_or(0);
    json!({
        "cpu": model,
        "cores": cpus(),
        "memory_gib": (memory_kib as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        "load_average_at_start": load_average(),
        "unix_time": SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
    })
}

/// utime + stime of `/proc/<pid>/stat`, in clock ticks.
pub fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    Ok(stat_ticks(&format!("/proc/{pid}/stat"))?.1)
}

/// The threads of process `pid`: id, name and CPU ticks (user + system),
/// from `/proc/<pid>/task/*/stat`; threads that end while being read are left out.
pub fn thread_ticks(pid: u32) -> Vec<(u32, String, u64)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|task| {
            let task = task.ok()?;
            let tid = task.file_name().to_str()?.parse().ok()?;
            let (name, ticks) = stat_ticks(&task.path().join("stat").to_string_lossy()).ok()?;
            Some((tid, name, ticks))
        })
        .collect()
}

/// The command name and user + system CPU ticks of a `stat` file of /proc.
fn stat_ticks(path: &str) -> anyhow::Result<(String, u64)> {
    let stat = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    // The command name may hold spaces; the fields after it start with the state (field 3).
    let (head, rest) = stat
        .rsplit_once(") ")
        .with_context(|| format!("unexpected {path}"))?;
    let name = head
        .split_once(" (")
        .map_or("", |(_, name)| name)
        .to_owned();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    ensure!(fields.len() > 12, "short {path}");
    let utime: u64 = fields[11].parse()?;
    let stime: u64 = fields[12].parse()?;
    Ok((name, utime + stime))
}

/// Clock ticks per second of `/proc/<pid>/stat` times.
pub fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Peak resident set size (`VmHWM`) of a live process, in KiB.
pub fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .context("no VmHWM in /proc/<pid>/status")
}

/// `text` as a TOML basic string.
pub fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `target/bench` (under `CARGO_TARGET_DIR` when that is set), made, as an
/// absolute path: where the benchmarks write their JSON and recordings.
pub fn bench_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
            PathBuf::from,
        )
        .join("bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    dir.canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))
}

/// Writes `document` as `<bench_dir>/<name>.json` and returns the path.
pub fn write_json(name: &str, document: &Value) -> anyhow::Result<PathBuf> {
    let path = bench_dir()?.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(document)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Small and seeded from the clock: for spreading work, not for secrets.
pub struct XorShift(u64);

impl XorShift {
    pub fn seeded() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Self(nanos | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform enough in `0..limit`.
    pub fn below(&mut self, limit: u64) -> u64 {
        self.next() % limit.max(1)
    }

    /// Uniform enough in `0..limit`, at millisecond resolution.
    pub fn below_duration(&mut self, limit: Duration) -> Duration {
        Duration::from_millis(self.below(limit.as_millis() as u64))
    }
}

impl XorShift {
    /// A generator of its own for each of several workers: seed each from one
    /// [`XorShift::seeded`] (any seed works; 0 is made odd).
    pub fn from_seed(seed: u64) -> Self {
        Self(seed | 1)
    }
}

/// `<keycloak.version>` of the provider's pom: the Keycloak the benchmarks run.
pub fn keycloak_version() -> &'static str {
    const POM: &str = include_str!("../../keycloak-provider/pom.xml");
    POM.split_once("<keycloak.version>")
        .and_then(|(_, rest)| rest.split_once("</keycloak.version>"))
        .map_or("unknown", |(version, _)| version.trim())
}

/// Keycloak's WARN and ERROR lines, digits masked so that alike lines group,
/// most frequent first.
pub fn keycloak_log_summary(log: &str) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for line in log.lines() {
        let Some(at) = line.find(" WARN ").or_else(|| line.find(" ERROR ")) else {
            continue;
        };
        let shape: String = line[at + 1..]
            .chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .take(200)
            .collect();
        match counts.iter_mut().find(|(known, _)| *known == shape) {
            Some((_, count)) => *count += 1,
            None => counts.push((shape, 1)),
        }
    }
    counts.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    counts
}

/// `root` and every process below it, each with its command name
/// (`/proc/<pid>/comm`, at most 15 characters): e.g. the servers a benchmark
/// started, with the JVM under `kc.sh` and the backends under `postgres`.
pub fn process_tree(root: u32) -> Vec<(u32, String)> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let parent = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|ppid| ppid.parse::<u32>().ok());
        if let Some(parent) = parent {
            parents.push((pid, parent));
        }
    }
    let mut tree = vec![root];
    let mut next = 0;
    while next < tree.len() {
        let parent = tree[next];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(pid, _)| *pid),
        );
        next += 1;
    }
    tree.into_iter()
        .filter_map(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            Some((pid, comm.trim().to_owned()))
        })
        .collect()
}

/// Busy and total clock ticks of all CPUs together, from the first line of
/// `/proc/stat` (busy: everything but idle and iowait).
pub fn machine_ticks() -> anyhow::Result<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("cpu "))
        .context("no cpu line in /proc/stat")?
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .context("unexpected /proc/stat")?;
    ensure!(fields.len() >= 5, "short cpu line in /proc/stat");
    // user nice system idle iowait irq softirq steal (guest time is in user already)
    let total: u64 = fields.iter().take(8).sum();
    Ok((total - fields[3] - fields[4], total))
}

/// utime + stime of the calling thread (`/proc/thread-self/stat`), in clock ticks.
pub fn thread_cpu_ticks() -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat")
        .context("reading /proc/thread-self/stat")?;
    let rest = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest)
        .context("unexpected /proc/thread-self/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    ensure!(fields.len() > 12, "short /proc/thread-self/stat");
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}
