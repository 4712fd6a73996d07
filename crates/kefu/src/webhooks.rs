//! Delivers queued webhook events (`webhook_deliveries`, written by the ACD for each CTI event)
//! to integrations: a JSON POST signed with HMAC-SHA256 of the body under the webhook's secret
//! (`X-Kefu-Signature: sha256=<hex>`), with the event type and delivery id in `X-Kefu-Event` and
//! `X-Kefu-Delivery`. A failure is retried with exponential backoff (5 s, 10 s, 20 s … at most 8
//! attempts); a delivery is marked delivered only after a 2xx answer, so nothing is lost when
//! kefu stops in between (it may be delivered twice: receivers dedupe on `X-Kefu-Delivery`).

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use hmac::{Hmac, Mac};
use kefu_store::Store;
use sha2::Sha256;

const MAX_ATTEMPTS: i32 = 8;

/// The signature header's value for `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Delivers due events every `every` until the process ends.
pub async fn deliver_forever(store: Store, every: Duration) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = deliver_due(&store, &client).await {
            tracing::warn!(error = %e, "webhook delivery round failed");
        }
    }
}

/// One round: every due delivery, once.
pub async fn deliver_due(store: &Store, client: &reqwest::Client) -> anyhow::Result<usize> {
    let due = store.due_webhook_deliveries(Utc::now(), 100).await?;
    let n = due.len();
    for d in due {
        let body = serde_json::to_vec(&d.body)?;
        let sent = client
            .post(&d.url)
            .header("content-type", "application/json")
            .header("x-kefu-event", &d.event_type)
            .header("x-kefu-delivery", d.id.to_string())
            .header("x-kefu-signature", signature(&d.secret, &body))
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => store.webhook_delivered(d.id, Utc::now()).await?,
            other => {
                let error = match other {
                    Ok(r) => format!("HTTP {}", r.status()),
                    Err(e) => e.to_string(),
                };
                let attempts = d.attempts + 1;
                let retry = (attempts < MAX_ATTEMPTS)
                    .then(|| Utc::now() + TimeDelta::seconds(5 << attempts.min(10)));
                store.webhook_failed(d.id, &error, retry).await?;
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            super::signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
