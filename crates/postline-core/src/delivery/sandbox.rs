//! The sandbox transport: plays out a test recipient's scenario with the same
//! events, in the same order and with the same details, as the real service.

use async_trait::async_trait;
use serde_json::json;

use super::{ClaimedDelivery, DeliveryOutcome, DeliveryStatus, worker::Transport};
use crate::{
    clock::Timestamp,
    emails::Route,
    emails::{
        EmailEvent, EventKind,
        sandbox::{Scenario, scenario},
    },
};

/// The sandbox as a worker transport.
#[derive(Clone)]
pub struct SandboxTransport {
    clock: std::sync::Arc<dyn crate::clock::Clock>,
}

impl SandboxTransport {
    /// A sandbox whose events carry times from `clock`.
    pub fn new(clock: std::sync::Arc<dyn crate::clock::Clock>) -> Self {
        SandboxTransport { clock }
    }
}

#[async_trait]
impl Transport for SandboxTransport {
    fn route(&self) -> Route {
        Route::Sandbox
    }

    async fn attempt(&self, rows: Vec<ClaimedDelivery>, report: super::worker::Report) {
        let now = self.clock.now();
        for row in rows {
            let outcome = play(&row, now);
            let _ = report.send((row, outcome));
        }
    }
}

/// The outcome of "delivering" to a sandbox recipient at `now`.
pub fn play(claimed: &ClaimedDelivery, now: Timestamp) -> DeliveryOutcome {
    let event = |kind: EventKind| EmailEvent::new(claimed.email_id, kind, Some(claimed.recipient.clone()), now);
    let Some(scenario) = scenario(&claimed.recipient) else {
        // Only sandbox addresses are routed here; anything else is a routing bug.
        let mut failed = event(EventKind::Failed);
        failed.data = json!({"failed": {"reason": "not_a_sandbox_recipient"}});
        return DeliveryOutcome::finished(DeliveryStatus::Failed, vec![failed]);
    };
    match scenario {
        Scenario::Delivered => DeliveryOutcome::finished(
            DeliveryStatus::Delivered,
            vec![event(EventKind::Sent), event(EventKind::Delivered)],
        ),
        Scenario::Bounced => {
            let mut bounced = event(EventKind::Bounced);
            bounced.data = json!({"bounce": {
                "type": "Permanent",
                "subType": "General",
                "message": "The recipient's email provider sent a hard bounce message, which means the address \
                            does not exist or the provider does not accept mail for it.",
                "diagnosticCode": [format!("smtp; 550 5.1.1 <{}>: Recipient address rejected: User unknown", claimed.recipient)],
            }});
            DeliveryOutcome::finished(DeliveryStatus::Bounced, vec![event(EventKind::Sent), bounced])
        }
        Scenario::Complained => DeliveryOutcome::finished(
            DeliveryStatus::Delivered,
            vec![event(EventKind::Sent), event(EventKind::Delivered), event(EventKind::Complained)],
        ),
        Scenario::Suppressed => {
            let mut suppressed = event(EventKind::Suppressed);
            suppressed.data = json!({"suppressed": {
                "type": "OnAccountSuppressionList",
                "reason": "previous_bounce",
                "message": "The recipient is on the suppression list because a previous email to it bounced.",
                "diagnosticCode": [],
            }});
            DeliveryOutcome::finished(DeliveryStatus::Suppressed, vec![suppressed])
        }
    }
}
