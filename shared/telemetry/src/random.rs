//! Randomness for identifiers, behind a small trait so tests can supply fixed bytes or a failing
//! source. (`ring`'s own `SecureRandom` is sealed: nothing outside `ring` can implement it.)

use ring::rand::SystemRandom;

/// A source of cryptographically secure random bytes. Production code passes
/// [`SystemRandom`], the operating system's CSPRNG.
pub trait RandomSource {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]) -> Result<(), RandomnessUnavailable>;
}

impl RandomSource for SystemRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), RandomnessUnavailable> {
        ring::rand::SecureRandom::fill(self, dest).map_err(|_| RandomnessUnavailable)
    }
}

/// The random source failed. With the system source this means the OS refused to provide
/// randomness, which no caller can work around: the program should stop serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the random number generator failed")]
pub struct RandomnessUnavailable;

/// `N` random bytes.
pub(crate) fn bytes<const N: usize>(
    rng: &dyn RandomSource,
) -> Result<[u8; N], RandomnessUnavailable> {
    let mut out = [0u8; N];
    rng.fill(&mut out)?;
    Ok(out)
}

/// `N` random bytes that are not all zero: W3C Trace Context reserves the all-zero trace and
/// parent ids as invalid. A working source draws all zeros with probability 2^-64 or less, so a
/// source that keeps returning them is broken and is reported as such rather than looped on.
pub(crate) fn nonzero_bytes<const N: usize>(
    rng: &dyn RandomSource,
) -> Result<[u8; N], RandomnessUnavailable> {
    for _ in 0..4 {
        let candidate = bytes::<N>(rng)?;
        if candidate.iter().any(|&b| b != 0) {
            return Ok(candidate);
        }
    }
    Err(RandomnessUnavailable)
}

/// Deterministic sources for tests.
#[cfg(test)]
pub(crate) mod fixed {
    use super::{RandomSource, RandomnessUnavailable};
    use std::cell::Cell;

    /// Fills every request with the same byte.
    pub(crate) struct Byte(pub u8);

    impl RandomSource for Byte {
        fn fill(&self, dest: &mut [u8]) -> Result<(), RandomnessUnavailable> {
            dest.fill(self.0);
            Ok(())
        }
    }

    /// Always fails.
    pub(crate) struct Failing;

    impl RandomSource for Failing {
        fn fill(&self, _: &mut [u8]) -> Result<(), RandomnessUnavailable> {
            Err(RandomnessUnavailable)
        }
    }

    /// Returns zeros for the first `zeros` requests, then `0x11` bytes.
    pub(crate) struct ZerosThen {
        pub(crate) zeros: Cell<usize>,
    }

    impl RandomSource for ZerosThen {
        fn fill(&self, dest: &mut [u8]) -> Result<(), RandomnessUnavailable> {
            let left = self.zeros.get();
            if left > 0 {
                self.zeros.set(left - 1);
                dest.fill(0);
            } else {
                dest.fill(0x11);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixed::{Failing, ZerosThen};
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_failing_source_is_reported() {
        assert_eq!(bytes::<4>(&Failing), Err(RandomnessUnavailable));
        assert_eq!(nonzero_bytes::<4>(&Failing), Err(RandomnessUnavailable));
    }

    #[test]
    fn all_zero_draws_are_redrawn() {
        let rng = ZerosThen {
            zeros: Cell::new(3),
        };
        assert_eq!(nonzero_bytes::<2>(&rng), Ok([0x11, 0x11]));
    }

    #[test]
    fn a_source_stuck_at_zero_is_reported() {
        let rng = ZerosThen {
            zeros: Cell::new(4),
        };
        assert_eq!(nonzero_bytes::<2>(&rng), Err(RandomnessUnavailable));
    }
}
