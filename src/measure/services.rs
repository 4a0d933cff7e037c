//! Services a workload needs (an LLM stand-in, a database): started before
//! the first scenario, checked for readiness, and stopped afterwards in every
//! case: after success, after a failing scenario (by `Drop`), and on Ctrl-C
//! or SIGTERM (the interrupt handler kills their process groups).

use std::io::Read;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::workload::{Readiness, ServiceSpec};

/// Process groups of running services, for the interrupt handler.
static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Kills every running service's process group (used on Ctrl-C).
pub fn kill_all() {
    if let Ok(groups) = GROUPS.lock() {
        for g in groups.iter() {
            super::kill_group(*g);
        }
    }
}

struct Running {
    name: String,
    child: Child,
}

/// Started services; stopped when dropped.
pub struct Services {
    running: Vec<Running>,
    _dir: Option<crate::interrupt::ScratchDir>,
}

fn tail_of(path: &PathBuf) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(10)..]
        .iter()
        .map(|l| format!("\n  | {l}"))
        .collect()
}

fn ready(r: &Readiness) -> bool {
    match r {
        Readiness::None => true,
        Readiness::Port(addr) => addr
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_millis(200)).is_ok()),
        Readiness::Http(url) => reqwest::blocking::Client::builder()
            .timeout(Duration::from_millis(500))
            .build()
            .ok()
            .and_then(|c| c.get(url).send().ok())
            .is_some_and(|r| r.status().is_success()),
    }
}

impl Services {
    pub fn none() -> Services {
        Services {
            running: Vec::new(),
            _dir: None,
        }
    }

    /// Starts each service in its own process group and waits until it is
    /// ready; on any failure the ones already started are stopped.
    pub fn start(specs: &[ServiceSpec]) -> Result<Services> {
        if specs.is_empty() {
            return Ok(Services::none());
        }
        let dir = crate::interrupt::scratch_dir("bench-gate-services-", None)?;
        let mut services = Services {
            running: Vec::new(),
            _dir: None,
        };
        let exe = std::env::current_exe()?.display().to_string();
        for spec in specs {
            let argv: Vec<String> = spec
                .command
                .argv
                .iter()
                .map(|a| a.replace("{bench_gate}", &exe))
                .collect();
            let log = dir.path().join(format!("{}.log", spec.name));
            let out = std::fs::File::create(&log)?;
            let mut cmd = Command::new(&argv[0]);
            super::env::apply(&mut cmd, &spec.command.env_policy, &spec.command.env);
            cmd.args(&argv[1..])
                .stdin(Stdio::null())
                .stdout(out.try_clone()?)
                .stderr(out);
            if let Some(cwd) = &spec.command.cwd {
                cmd.current_dir(cwd);
            }
            #[cfg(unix)]
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            // Registered as it starts, unless an interrupt has begun.
            let child = crate::interrupt::launch(|| {
                let child = cmd.spawn()?;
                if let Ok(mut g) = GROUPS.lock() {
                    g.push(child.id() as i32);
                }
                std::io::Result::Ok(child)
            })
            .with_context(|| {
                format!("service '{}': cannot start `{}`", spec.name, argv.join(" "))
            })?;
            let pid = child.id();
            eprintln!(
                "started service '{}' (pid {pid}), waiting until it is ready",
                spec.name
            );
            services.running.push(Running {
                name: spec.name.clone(),
                child,
            });
            let started = Instant::now();
            loop {
                crate::interrupt::wait_if_interrupted();
                let r = services.running.last_mut().expect("just pushed");
                if let Ok(Some(status)) = r.child.try_wait() {
                    anyhow::bail!(
                        "service '{}' exited ({status}) before it was ready; last lines of its output:{}",
                        spec.name,
                        tail_of(&log)
                    );
                }
                if ready(&spec.ready) {
                    break;
                }
                if started.elapsed() > spec.start_timeout {
                    anyhow::bail!(
                        "service '{}' was not ready after {:.0} s ({}); last lines of its output:{}",
                        spec.name,
                        spec.start_timeout.as_secs_f64(),
                        spec.ready,
                        tail_of(&log)
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            eprintln!(
                "service '{}' is ready after {:.2} s",
                spec.name,
                started.elapsed().as_secs_f64()
            );
        }
        services._dir = Some(dir);
        Ok(services)
    }

    /// Stops every service: SIGTERM to its group, SIGKILL after 3 s.
    pub fn stop(&mut self) {
        for mut r in self.running.drain(..).rev() {
            let pid = r.child.id() as i32;
            #[cfg(unix)]
            // SAFETY: signalling our own child's process group.
            unsafe {
                libc::kill(-pid, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = r.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            super::kill_group(pid);
            let _ = r.child.kill();
            let _ = r.child.wait();
            if let Ok(mut g) = GROUPS.lock() {
                g.retain(|x| *x != pid);
            }
            eprintln!("stopped service '{}' (pid {pid})", r.name);
        }
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        self.stop();
    }
}
