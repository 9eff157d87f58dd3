//! Where the six programs' executables are: beside the running executable's profile directory.
//!
//! Cargo puts a workspace's binaries in `target/<profile>/` and test executables in
//! `target/<profile>/deps/`, so both the end-to-end tests (`target/debug/deps/e2e-…`) and the
//! demo launcher (`target/release/demo`) find the programs of their own profile. Cargo cannot
//! build another package's binaries for a test, so they must be built first: `make e2e` and
//! `make demo` do, and so does `cargo test --workspace` (every program has integration tests,
//! which makes Cargo build its binary before any test runs).

use std::io;
use std::path::{Path, PathBuf};

use wire::Program;

/// A program's executable is not where it should be.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} is missing: build the programs first with `{build}` (or `{make}`)",
    path.display()
)]
pub struct MissingBinary {
    /// Where it was looked for.
    pub path: PathBuf,
    /// The cargo command that builds it for this profile.
    pub build: &'static str,
    /// The make target that does.
    pub make: &'static str,
}

/// The directory holding the programs' executables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// The profile directory of the running executable (`target/<profile>/`, also for a test
    /// executable in `target/<profile>/deps/`).
    pub fn beside_current_exe() -> io::Result<Self> {
        let exe = std::env::current_exe()?;
        let mut dir = exe
            .parent()
            .ok_or_else(|| io::Error::other("the running executable has no directory"))?;
        if dir.file_name().is_some_and(|name| name == "deps") {
            dir = dir.parent().unwrap_or(dir);
        }
        Ok(Self::in_dir(dir))
    }

    /// Executables in `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The executable of `program`, if it exists.
    pub fn path(&self, program: Program) -> Result<PathBuf, MissingBinary> {
        let path = self.dir.join(program.name());
        if path.is_file() {
            return Ok(path);
        }
        let release = self.dir.file_name().is_some_and(|name| name == "release");
        Err(MissingBinary {
            path,
            build: if release {
                "cargo build --release --workspace --bins"
            } else {
                "cargo build --workspace --bins"
            },
            make: if release { "make demo" } else { "make e2e" },
        })
    }

    /// Checks that all six programs are there, naming the first one missing.
    pub fn check_all(&self) -> Result<(), MissingBinary> {
        Program::ALL
            .iter()
            .try_for_each(|program| self.path(*program).map(drop))
    }

    /// Cargo's target directory: the nearest ancestor holding `CACHEDIR.TAG` (Cargo writes one
    /// at the root of every target directory, wherever `CARGO_TARGET_DIR` or `--target` put it),
    /// or the parent of the profile directory.
    pub fn target_dir(&self) -> PathBuf {
        self.dir
            .ancestors()
            .find(|dir| dir.join("CACHEDIR.TAG").is_file())
            .or_else(|| self.dir.parent())
            .unwrap_or(&self.dir)
            .to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_names_the_build_command_of_its_profile() {
        let dir = tempfile::tempdir().unwrap();
        let debug = dir.path().join("debug");
        std::fs::create_dir(&debug).unwrap();
        let error = Binaries::in_dir(&debug).path(Program::AgentA).unwrap_err();
        assert_eq!(error.path, debug.join("agent-a"));
        assert!(
            error
                .to_string()
                .ends_with("is missing: build the programs first with `cargo build --workspace --bins` (or `make e2e`)"),
            "{error}"
        );
        let error = Binaries::in_dir(dir.path().join("release"))
            .path(Program::WebApp)
            .unwrap_err();
        assert_eq!(error.build, "cargo build --release --workspace --bins");
        assert_eq!(error.make, "make demo");
    }

    #[test]
    fn finds_programs_and_the_target_dir() {
        let target = tempfile::tempdir().unwrap();
        std::fs::write(target.path().join("CACHEDIR.TAG"), "").unwrap();
        let profile = target.path().join("x86_64-unknown-linux-gnu").join("debug");
        std::fs::create_dir_all(&profile).unwrap();
        for program in Program::ALL {
            std::fs::write(profile.join(program.name()), "").unwrap();
        }
        let binaries = Binaries::in_dir(&profile);
        binaries.check_all().unwrap();
        assert_eq!(
            binaries.path(Program::InternalIam).unwrap(),
            profile.join("internal-iam")
        );
        assert_eq!(binaries.target_dir(), target.path());
    }

    #[test]
    fn a_test_executable_looks_in_its_profile_dir() {
        let binaries = Binaries::beside_current_exe().unwrap();
        // This unit test runs from target/<profile>/deps/.
        assert_ne!(binaries.dir().file_name().unwrap(), "deps");
        assert!(binaries.target_dir().join("CACHEDIR.TAG").is_file());
    }
}
