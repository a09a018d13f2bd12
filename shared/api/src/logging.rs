//! Logging: JSON lines on stdout, as CloudWatch reads them, filtered by
//! `RUST_LOG`.

use tracing_subscriber::filter::{LevelFilter, ParseError, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The level when `RUST_LOG` is unset, blank or not understood.
const DEFAULT_LEVEL: LevelFilter = LevelFilter::INFO;

/// Logs in JSON, as CloudWatch reads it; `RUST_LOG` sets the level (see
/// [`log_filter`]). Each line carries the invocation's span, where the Lambda
/// runtime puts `requestId` and `xrayTraceId`; the first line says the
/// function started cold. Lambda stamps the time, so the lines do not.
pub fn init_tracing() {
    let rust_log = std::env::var("RUST_LOG").ok();
    let (filter, refused) = log_filter(rust_log.as_deref());
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .without_time(),
        )
        .init();
    if let Some(error) = refused {
        tracing::warn!(
            rust_log = rust_log.as_deref().unwrap_or_default(),
            %error,
            "RUST_LOG not understood; logging at {DEFAULT_LEVEL}"
        );
    }
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
    tracing::info!(cold_start = true, function_name = %function, "function initialising");
}

/// The filter `RUST_LOG` asks for: comma-separated `target=level` directives,
/// a bare level being the default for every other target — `EnvFilter`'s
/// syntax without its span and field-value filters, which need a regex engine
/// (`Targets` keeps `regex-automata` out of the functions). Unset or blank:
/// [`DEFAULT_LEVEL`]; not understood: [`DEFAULT_LEVEL`] and the error, to be
/// reported once logging is up. Empty directives (`info,`) are skipped: to
/// `Targets` an empty directive is the empty target at `trace`, which every
/// target starts with.
pub(crate) fn log_filter(rust_log: Option<&str>) -> (Targets, Option<ParseError>) {
    let directives: Vec<&str> = rust_log
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|directive| !directive.is_empty())
        .collect();
    let default = || Targets::new().with_default(DEFAULT_LEVEL);
    if directives.is_empty() {
        return (default(), None);
    }
    match directives.join(",").parse::<Targets>() {
        Ok(targets) => (targets, None),
        Err(error) => (default(), Some(error)),
    }
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::*;

    fn filter(rust_log: Option<&str>) -> Targets {
        let (targets, error) = log_filter(rust_log);
        assert!(error.is_none(), "{rust_log:?}: {error:?}");
        targets
    }

    #[test]
    fn unset_or_blank_is_info() {
        for rust_log in [None, Some(""), Some("  "), Some(" , ,")] {
            let targets = filter(rust_log);
            assert!(
                targets.would_enable("tikivip_store", &Level::INFO),
                "{rust_log:?}"
            );
            assert!(
                !targets.would_enable("tikivip_store", &Level::DEBUG),
                "{rust_log:?}"
            );
        }
    }

    #[test]
    fn a_bare_level_is_the_default_for_every_target() {
        let targets = filter(Some("warn"));
        assert!(targets.would_enable("lambda_runtime", &Level::WARN));
        assert!(!targets.would_enable("lambda_runtime", &Level::INFO));
        let targets = filter(Some("DEBUG"));
        assert!(targets.would_enable("aws_smithy_runtime", &Level::DEBUG));
        assert!(!targets.would_enable("aws_smithy_runtime", &Level::TRACE));
    }

    #[test]
    fn target_directives_apply_to_the_target_and_its_modules() {
        let targets = filter(Some("info, tikivip_store=debug,aws_smithy_runtime=off"));
        assert!(targets.would_enable("tikivip_store", &Level::DEBUG));
        assert!(targets.would_enable("tikivip_store::item", &Level::DEBUG));
        assert!(!targets.would_enable("tikivip_store", &Level::TRACE));
        assert!(!targets.would_enable("tikivip_api", &Level::DEBUG));
        assert!(targets.would_enable("tikivip_api", &Level::INFO));
        assert!(!targets.would_enable("aws_smithy_runtime::client", &Level::ERROR));
        // Without a bare level, other targets are off, as with EnvFilter.
        let targets = filter(Some("tikivip_store=debug"));
        assert!(!targets.would_enable("tikivip_api", &Level::ERROR));
    }

    #[test]
    fn an_empty_directive_does_not_turn_everything_on() {
        let targets = filter(Some("warn,"));
        assert!(!targets.would_enable("hyper", &Level::TRACE));
        assert!(!targets.would_enable("hyper", &Level::INFO));
        assert!(targets.would_enable("hyper", &Level::WARN));
    }

    #[test]
    fn what_is_not_understood_falls_back_to_info_with_the_error() {
        for rust_log in ["info,tikivip_store=loud", "a=b=c", "x[{y}=debug"] {
            let (targets, error) = log_filter(Some(rust_log));
            assert!(error.is_some(), "{rust_log:?} parsed");
            assert!(
                targets.would_enable("tikivip_store", &Level::INFO),
                "{rust_log:?}"
            );
            assert!(
                !targets.would_enable("tikivip_store", &Level::DEBUG),
                "{rust_log:?}"
            );
        }
    }
}
