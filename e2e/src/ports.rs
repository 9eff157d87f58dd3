//! The ports one system listens on, all on 127.0.0.1.

use std::collections::BTreeSet;
use std::hash::{BuildHasher as _, Hasher as _, RandomState};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::ops::Range;
use std::sync::{Mutex, PoisonError};

use wire::Program;

/// Where every listener of the six programs is. The four mTLS programs also get a plain-HTTP
/// listener that answers only `GET /healthz` (their `--health-listen`), because a probe cannot
/// present an SVID; the web app and the external IAM serve `/healthz` on their main listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub web_app: u16,
    pub external_iam: u16,
    pub agent_b: u16,
    pub agent_b_health: u16,
    pub internal_iam: u16,
    pub internal_iam_health: u16,
    pub agent_a: u16,
    pub agent_a_health: u16,
    pub service_a2: u16,
    pub service_a2_health: u16,
}

/// A port is taken.
#[derive(Debug, thiserror::Error)]
#[error("port {port} ({what}) is already in use on 127.0.0.1: {source}")]
pub struct PortInUse {
    pub port: u16,
    pub what: String,
    #[source]
    pub source: io::Error,
}

impl Ports {
    /// The programs' own defaults (`make demo`); each health listener on its program's port
    /// + 10000, so the demo's ports are all fixed and documented.
    pub const DEMO: Self = Self {
        web_app: 8080,
        external_iam: 9000,
        agent_b: 7445,
        agent_b_health: 17445,
        internal_iam: 8443,
        internal_iam_health: 18443,
        agent_a: 7443,
        agent_a_health: 17443,
        service_a2: 7444,
        service_a2_health: 17444,
    };

    /// Ten distinct free ports for a test system, chosen at random below the kernel's
    /// ephemeral range and never twice in one process.
    ///
    /// A port the kernel hands out for `bind(0)` or for an outgoing connection comes from the
    /// ephemeral range; choosing one there and releasing it until the program binds it would
    /// race with every connection the running systems make. Below that range only explicit
    /// binds compete: other systems of this process never (the registry), another process
    /// rarely, and the program then fails to bind, which [`crate::StartError::is_port_conflict`]
    /// recognises so the caller can try other ports.
    pub fn free() -> io::Result<Self> {
        let range = candidate_range();
        let mut taken = lock_registry();
        let mut listeners = Vec::with_capacity(10);
        let mut attempts = 0;
        while listeners.len() < 10 {
            attempts += 1;
            if attempts > 10_000 {
                return Err(io::Error::other(format!(
                    "no ten free ports in {}..{}",
                    range.start, range.end
                )));
            }
            let port = random_port(&range);
            if taken.contains(&port) {
                continue;
            }
            // Held until all ten are chosen: each is free, and they are distinct.
            if let Ok(listener) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
                taken.insert(port);
                listeners.push((port, listener));
            }
        }
        let ports: Vec<u16> = listeners.iter().map(|(port, _)| *port).collect();
        let [a, b, c, d, e, f, g, h, i, j] = ports[..] else {
            return Err(io::Error::other("expected ten ports"));
        };
        Ok(Self {
            web_app: a,
            external_iam: b,
            agent_b: c,
            agent_b_health: d,
            internal_iam: e,
            internal_iam_health: f,
            agent_a: g,
            agent_a_health: h,
            service_a2: i,
            service_a2_health: j,
        })
    }

    /// The main listener of `program`.
    pub fn main(&self, program: Program) -> u16 {
        match program {
            Program::WebApp => self.web_app,
            Program::ExternalIam => self.external_iam,
            Program::AgentB => self.agent_b,
            Program::InternalIam => self.internal_iam,
            Program::AgentA => self.agent_a,
            Program::ServiceA2 => self.service_a2,
        }
    }

    /// The plain-HTTP listener serving `program`'s `/healthz`.
    pub fn health(&self, program: Program) -> u16 {
        match program {
            Program::WebApp | Program::ExternalIam => self.main(program),
            Program::AgentB => self.agent_b_health,
            Program::InternalIam => self.internal_iam_health,
            Program::AgentA => self.agent_a_health,
            Program::ServiceA2 => self.service_a2_health,
        }
    }

    /// Every port with what listens there.
    pub fn all(&self) -> Vec<(u16, String)> {
        let mut all = Vec::with_capacity(10);
        for program in Program::ALL {
            all.push((self.main(program), program.name().to_owned()));
            if self.health(program) != self.main(program) {
                all.push((
                    self.health(program),
                    format!("{} health probe", program.name()),
                ));
            }
        }
        all
    }

    /// Checks that nothing listens on any of the ports, naming the first one taken.
    pub fn check_available(&self) -> Result<(), PortInUse> {
        for (port, what) in self.all() {
            TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
                .map_err(|source| PortInUse { port, what, source })?;
        }
        Ok(())
    }
}

/// Lowest port a test system uses: above the well-known and most registered services.
const LOWEST: u16 = 20_000;

/// Ports handed out by [`Ports::free`] in this process.
static REGISTRY: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

fn lock_registry() -> std::sync::MutexGuard<'static, BTreeSet<u16>> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// From [`LOWEST`] to the start of the kernel's ephemeral range (Linux's
/// `ip_local_port_range`, 32768 by default); the whole range above [`LOWEST`] if that leaves
/// too few.
fn candidate_range() -> Range<u16> {
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    if ephemeral_start >= LOWEST + 1000 {
        LOWEST..ephemeral_start
    } else {
        LOWEST..u16::MAX
    }
}

fn random_port(range: &Range<u16>) -> u16 {
    // Not a secret, just spread: the standard library's randomly keyed hasher.
    let random = RandomState::new().build_hasher().finish();
    let width = u64::from(range.end - range.start);
    range.start + u16::try_from(random % width).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct_and_free() {
        let ports = Ports::free().unwrap();
        let mut all: Vec<u16> = ports.all().into_iter().map(|(port, _)| port).collect();
        assert_eq!(all.len(), 10);
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 10);
        ports.check_available().unwrap();
    }

    #[test]
    fn free_ports_are_never_handed_out_twice_and_avoid_the_ephemeral_range() {
        let first = Ports::free().unwrap();
        let second = Ports::free().unwrap();
        let range = candidate_range();
        for (port, _) in first.all() {
            assert!(range.contains(&port), "{port}");
            assert!(
                !second.all().iter().any(|(other, _)| *other == port),
                "{port} twice"
            );
        }
    }

    #[test]
    fn a_taken_port_is_named() {
        let mut ports = Ports::free().unwrap();
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        ports.agent_a_health = taken.local_addr().unwrap().port();
        let error = ports.check_available().unwrap_err();
        assert_eq!(error.port, ports.agent_a_health);
        assert_eq!(error.what, "agent-a health probe");
    }

    #[test]
    fn the_demo_uses_the_programs_defaults() {
        assert_eq!(Ports::DEMO.main(Program::WebApp), 8080);
        assert_eq!(Ports::DEMO.health(Program::WebApp), 8080);
        assert_eq!(Ports::DEMO.main(Program::ExternalIam), 9000);
        assert_eq!(Ports::DEMO.main(Program::InternalIam), 8443);
        assert_eq!(Ports::DEMO.health(Program::InternalIam), 18443);
        assert_eq!(Ports::DEMO.main(Program::AgentA), 7443);
        assert_eq!(Ports::DEMO.main(Program::ServiceA2), 7444);
        assert_eq!(Ports::DEMO.main(Program::AgentB), 7445);
    }
}
