use super::*;
use crate::random::fixed::{Byte, Failing};
use ring::rand::SystemRandom;

/// The example of §3.2.
const EXAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn parses_the_spec_example() {
    let tp = TraceParent::parse(EXAMPLE).unwrap();
    assert_eq!(tp.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(tp.parent_id(), "00f067aa0ba902b7");
    assert!(tp.sampled());
    assert_eq!(tp.to_string(), EXAMPLE);
}

#[test]
fn parses_not_sampled() {
    let value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    let tp = TraceParent::parse(value).unwrap();
    assert!(!tp.sampled());
    assert_eq!(tp.to_string(), value);
}

#[test]
fn unknown_flags_are_ignored_when_read_and_zeroed_when_sent() {
    let tp = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09").unwrap();
    assert!(tp.sampled());
    assert_eq!(tp.to_string(), EXAMPLE);
    let tp = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-fe").unwrap();
    assert!(!tp.sampled());
}

#[test]
fn a_future_version_is_read_by_the_00_layout_and_sent_as_00() {
    let tp = TraceParent::parse(
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-be-like",
    )
    .unwrap();
    assert_eq!(tp.to_string(), EXAMPLE);
    let tp = TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
    assert_eq!(tp.to_string(), EXAMPLE);
}

#[test]
fn a_future_version_needs_a_dash_before_extra_data() {
    assert_eq!(
        TraceParent::parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.x"),
        Err(InvalidTraceParent::Delimiter(55))
    );
}

#[test]
fn a_future_version_is_bounded() {
    let long = format!(
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-{}",
        "a".repeat(500)
    );
    assert_eq!(TraceParent::parse(&long), Err(InvalidTraceParent::Length));
}

#[test]
fn version_00_must_be_exactly_55_characters() {
    assert_eq!(
        TraceParent::parse(&format!("{EXAMPLE}-extra")),
        Err(InvalidTraceParent::Length)
    );
    assert_eq!(
        TraceParent::parse(&format!("{EXAMPLE} ")),
        Err(InvalidTraceParent::Length)
    );
    assert_eq!(
        TraceParent::parse(&EXAMPLE[..54]),
        Err(InvalidTraceParent::Length)
    );
    assert_eq!(TraceParent::parse(""), Err(InvalidTraceParent::Length));
}

#[test]
fn version_ff_and_malformed_versions_are_invalid() {
    for version in ["ff", "FF", "0g", "0A", "-0", " 0"] {
        let value = format!("{version}{}", &EXAMPLE[2..]);
        assert_eq!(
            TraceParent::parse(&value),
            Err(InvalidTraceParent::Version),
            "{value}"
        );
    }
}

#[test]
fn delimiters_are_required() {
    let cases = [
        ("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 2),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
            35,
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
            52,
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e47366-0f067aa0ba902b7-01",
            35,
        ),
    ];
    for (value, offset) in cases {
        assert_eq!(
            TraceParent::parse(value),
            Err(InvalidTraceParent::Delimiter(offset)),
            "{value}"
        );
    }
}

#[test]
fn trace_id_must_be_lower_case_hex() {
    for value in [
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e47 6-00f067aa0ba902b7-01",
    ] {
        assert_eq!(
            TraceParent::parse(value),
            Err(InvalidTraceParent::TraceId),
            "{value}"
        );
    }
}

#[test]
fn all_zero_trace_id_is_invalid() {
    assert_eq!(
        TraceParent::parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
        Err(InvalidTraceParent::ZeroTraceId)
    );
}

#[test]
fn parent_id_must_be_lower_case_hex() {
    for value in [
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
    ] {
        assert_eq!(
            TraceParent::parse(value),
            Err(InvalidTraceParent::ParentId),
            "{value}"
        );
    }
}

#[test]
fn all_zero_parent_id_is_invalid() {
    assert_eq!(
        TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"),
        Err(InvalidTraceParent::ZeroParentId)
    );
}

#[test]
fn flags_must_be_lower_case_hex() {
    for flags in ["0G", "0A", "-1", "x1"] {
        let value = format!("{}{flags}", &EXAMPLE[..53]);
        assert_eq!(
            TraceParent::parse(&value),
            Err(InvalidTraceParent::Flags),
            "{value}"
        );
    }
}

#[test]
fn multibyte_characters_are_rejected_not_panicked_on() {
    let value = "00-4bf92f3577b34da6a3ce929d0e0e47é-00f067aa0ba902b7-01";
    assert_eq!(value.len(), 55);
    assert_eq!(TraceParent::parse(value), Err(InvalidTraceParent::TraceId));
}

#[test]
fn generated_contexts_are_valid_and_sampled() {
    let tp = TraceParent::generate(&SystemRandom::new()).unwrap();
    assert!(tp.sampled());
    assert_eq!(TraceParent::parse(&tp.to_string()), Ok(tp));
}

#[test]
fn generated_context_encodes_the_random_bytes() {
    let tp = TraceParent::generate(&Byte(0xab)).unwrap();
    assert_eq!(
        tp.to_string(),
        format!("00-{}-{}-01", "ab".repeat(16), "ab".repeat(8))
    );
}

#[test]
fn a_child_keeps_the_trace_and_sampling_and_gets_a_new_parent() {
    let parent =
        TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").unwrap();
    let child = parent.child(&Byte(0x5c)).unwrap();
    assert_eq!(
        child.to_string(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-5c5c5c5c5c5c5c5c-00"
    );

    let rng = SystemRandom::new();
    let (a, b) = (parent.child(&rng).unwrap(), parent.child(&rng).unwrap());
    assert_eq!(a.trace_id(), parent.trace_id());
    assert_ne!(a.parent_id(), parent.parent_id());
    assert_ne!(a.parent_id(), b.parent_id());
}

#[test]
fn generation_reports_a_failing_source() {
    assert_eq!(TraceParent::generate(&Failing), Err(RandomnessUnavailable));
    let parent = TraceParent::parse(EXAMPLE).unwrap();
    assert_eq!(parent.child(&Failing), Err(RandomnessUnavailable));
}

/// Deterministic mutations of valid values (xorshift64*, fixed seed): parsing never panics
/// (including on multi-byte characters at the fixed offsets), and whatever is accepted carries
/// exactly the ids written in the value and re-serialises to something that parses the same.
#[test]
fn mutated_values_never_panic_and_accepted_ones_say_what_they_carry() {
    const ALPHABET: &[char] = &[
        '0', '9', 'a', 'f', 'A', 'F', 'g', '-', ' ', '\n', 'é', '\u{2010}',
    ];
    let mut state: u64 = 0x6a09_e667_f3bc_c908;
    let mut below = |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        usize::try_from(state.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64).unwrap()
    };
    let seeds = [
        EXAMPLE,
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-future",
    ];
    let mut accepted = 0;
    for round in 0..6000 {
        let mut chars: Vec<char> = seeds[round % seeds.len()].chars().collect();
        for _ in 0..=below(2) {
            let at = below(chars.len() + 1);
            match below(4) {
                0 if at < chars.len() => chars[at] = ALPHABET[below(ALPHABET.len())],
                1 => chars.insert(at, ALPHABET[below(ALPHABET.len())]),
                2 if at < chars.len() => {
                    chars.remove(at);
                }
                _ => chars.truncate(at),
            }
        }
        let value: String = chars.into_iter().collect();
        let Ok(parsed) = TraceParent::parse(&value) else {
            continue;
        };
        accepted += 1;
        // A future version may carry anything after its fourth field (§3.2.4); the fields read
        // are plain ASCII.
        assert!(
            value.is_char_boundary(55) && value[..55].is_ascii(),
            "{value:?}"
        );
        assert_eq!(parsed.trace_id(), value[3..35], "{value:?}");
        assert_eq!(parsed.parent_id(), value[36..52], "{value:?}");
        assert_ne!(&value[..2], "ff");
        if value.starts_with("00") {
            assert_eq!(value.len(), 55, "{value:?}");
        }
        assert_eq!(TraceParent::parse(&parsed.to_string()), Ok(parsed));
    }
    assert!(accepted > 100, "{accepted}");
}
