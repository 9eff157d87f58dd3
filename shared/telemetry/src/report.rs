//! One line for an error and its causes, for a program's last words on stderr.

use std::error::Error;
use std::fmt;

/// Displays an error followed by each cause that adds something.
///
/// Error types differ in whether their message already includes their source's message (a
/// `thiserror` `"...: {source}"`) or leaves it to the chain. Printing every link then repeats
/// the same cause two or three times; this skips a cause whose text is already on the line.
#[derive(Debug, Clone, Copy)]
pub struct ErrorReport<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for ErrorReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = self.0.to_string();
        let mut cause = self.0.source();
        while let Some(error) = cause {
            let text = error.to_string();
            if !text.is_empty() && !line.contains(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            cause = error.source();
        }
        f.write_str(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read svid.pem: {0}")]
    struct Embeds(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("cannot load this workload's identity")]
    struct Wraps(#[source] Embeds);

    #[test]
    fn each_cause_appears_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let error = Wraps(Embeds(io));
        assert_eq!(
            ErrorReport(&error).to_string(),
            "cannot load this workload's identity: cannot read svid.pem: No such file or directory"
        );
    }
}
