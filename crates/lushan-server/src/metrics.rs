//! Prometheus metrics at `/metrics`, through the `metrics` facade.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// A handle on the process's metrics registry; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

impl Metrics {
    /// The process-wide registry (the facade has one global recorder, so
    /// several in-process servers in tests share it).
    pub fn global() -> Metrics {
        let handle = HANDLE.get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0])
                .map(|b| b.build_recorder())
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        });
        Metrics { handle: handle.clone() }
    }

    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Histograms grow until upkeep drains them; the server calls this
    /// every few seconds.
    pub fn spawn_upkeep(&self) {
        let handle = self.handle.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                handle.run_upkeep();
            }
        });
    }

    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let labels = [("method", method.to_owned()), ("route", route.to_owned()), ("status", status.to_string())];
        metrics::counter!("lushan_http_requests_total", &labels).increment(1);
        metrics::histogram!("lushan_http_request_duration_seconds", "route" => route.to_owned())
            .record(elapsed.as_secs_f64());
    }
}
