//! The IPN dispatcher, triggered by the SQS queue of IPN jobs.
//!
//! For each message: post the signed IPN to Tiki, record the attempt on the
//! transaction, and act on the domain's decision ([`IpnJob::next`]): finish,
//! retry after a delay (the message is hidden that long and reported as a
//! batch item failure, so one bad message never retries its neighbours), or
//! send the spent job to the dead-letter queue.

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use tikivip_api::metrics::{self, Metric};
use tikivip_domain::{IpnJob, IpnState, Next, RetrySchedule, Timestamp};
use tikivip_queue::batch::{Disposition, Fault, handle_batch};
use tikivip_queue::{DeadLetter, IpnMessage, IpnQueue, MAX_HIDE, MAX_RECEIVE_COUNT};
use tikivip_store::Store;
use tikivip_tiki_client::{TikiClient, attempt, view};

pub struct Dispatcher {
    store: Store,
    queue: IpnQueue,
    tiki: TikiClient,
    schedule: RetrySchedule,
}

impl Dispatcher {
    pub fn new(store: Store, queue: IpnQueue, tiki: TikiClient, schedule: RetrySchedule) -> Self {
        Dispatcher {
            store,
            queue,
            tiki,
            schedule,
        }
    }

    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let schedule = match std::env::var("IPN_RETRY_DELAYS_SECONDS") {
            Ok(delays) => RetrySchedule::parse(&delays)?,
            Err(_) => RetrySchedule::default(),
        };
        // Tiki's key comes through the same loader as the HTTP functions'
        // (Secrets Manager in AWS); the client signs with the newest secret.
        // The secret, the table and the queue are reached side by side: in AWS
        // each is a TLS connection of its own.
        let aws = tikivip_api::load_aws_config().await;
        let ((keys, store), queue) = tokio::try_join!(
            async {
                Ok::<_, lambda_runtime::Error>(
                    tikivip_api::keys_and_store(&aws, "TIKIVIP_CLIENT_ID", "TIKIVIP_CLIENT_SECRET")
                        .await?,
                )
            },
            async { Ok(IpnQueue::from_env(&aws).await?) },
        )?;
        let newest = keys
            .into_iter()
            .next()
            .ok_or("TIKIVIP_CLIENT_SECRET holds no secret")?;
        // TIKI_TIMEOUT_MS bounds each call to Tiki (default 10 s), as in
        // TikiClient::from_env; the function's timeout allows two calls.
        let timeout = match std::env::var("TIKI_TIMEOUT_MS") {
            Ok(millis) if !millis.trim().is_empty() => match millis.trim().parse::<u64>() {
                Ok(millis) if millis > 0 => Duration::from_millis(millis),
                _ => {
                    return Err(format!(
                        "TIKI_TIMEOUT_MS={millis:?} is not a positive number of milliseconds"
                    )
                    .into());
                }
            },
            _ => Duration::from_millis(10_000),
        };
        // One receive hides a message for at most this (default: SQS's 12 h
        // window less a margin); the schedule's receives must stay within the
        // queue's maxReceiveCount, or SQS would dead-letter a job still pending.
        let max_hide = match std::env::var("IPN_MAX_HIDE_SECONDS") {
            Ok(seconds) => match seconds.trim().parse::<u64>() {
                Ok(seconds) if seconds > 0 && seconds <= MAX_HIDE.as_secs() => {
                    Duration::from_secs(seconds)
                }
                _ => {
                    return Err(format!(
                        "IPN_MAX_HIDE_SECONDS={seconds:?} is not a number of seconds in 1..={}",
                        MAX_HIDE.as_secs()
                    )
                    .into());
                }
            },
            Err(_) => MAX_HIDE,
        };
        let receives = schedule.receives_needed(max_hide);
        if receives >= MAX_RECEIVE_COUNT {
            return Err(format!(
                "the retry schedule needs {receives} receives per job; the queue's maxReceiveCount is {MAX_RECEIVE_COUNT}"
            )
            .into());
        }
        let queue = queue.with_max_hide(max_hide);
        let tiki = TikiClient::new(
            tikivip_tiki_client::TikiEnvironment::from_env()?,
            newest.client_id,
            newest.secret,
            timeout,
        )?;
        Ok(Dispatcher::new(store, queue, tiki, schedule))
    }

    /// Handles a batch; answers with the messages to keep.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        handle_batch(&event, "IPN job", |message| self.dispatch(message)).await
    }

    async fn dispatch(&self, message: &SqsMessage) -> Result<Disposition, Fault> {
        let received = tikivip_queue::received(message.body.as_deref().unwrap_or_default())?;
        let job_message = received.message;
        let id = &job_message.transaction_id;
        let Some(mut job) = self.store.ipn_job(id).await? else {
            return Err(Fault(format!("transaction {id} has no IPN job")));
        };
        let now = Timestamp::now_utc();
        if job.state == IpnState::Exhausted && received.dead_letter {
            // A dead letter moved back by SQS's own redrive: the spent job
            // gets one new chain of attempts, on a message of its own.
            if let Some(chain) =
                tikivip_queue::chain_for_redrive(&self.store, &job_message, now).await?
            {
                self.queue
                    .enqueue(&IpnMessage {
                        chain,
                        ..job_message.clone()
                    })
                    .await?;
                tracing::info!(transaction_id = %id, chain, "spent IPN job redriven");
            }
            return Ok(Disposition::Done);
        }
        if job.state.is_final() || job_message.chain != job.chain {
            // A copy of a job that has ended, or of a spent chain (released
            // twice, or redelivered): it neither attempts nor restarts anything.
            return Ok(Disposition::Done);
        }
        let receipt = message.receipt_handle.as_deref().unwrap_or_default();
        if let Some(due) = job.next_attempt_at.filter(|due| *due > now) {
            // Back before its time: one receive hides a message for less
            // than 12 hours.
            self.queue
                .retry_after(receipt, duration_between(now, due))
                .await?;
            return Ok(Disposition::Again);
        }

        let tried = attempt(self.tiki.send_ipn(&job.ipn).await);
        job.attempts += 1;
        let tiki_view = if job.wants_status_check(&tried) {
            Some(view(
                self.tiki
                    .transaction_status(&job.ipn.reference_transaction_id)
                    .await,
            ))
        } else {
            None
        };
        let jitter = fastrand::f64() * 2.0 - 1.0;
        let next = job.next(&tried, tiki_view.as_ref(), &self.schedule, jitter);
        tracing::info!(transaction_id = %id, chain = job.chain, attempts = job.attempts, attempt = ?tried, tiki_view = ?tiki_view, next = ?next, "IPN attempt");
        metrics::count(Metric::IpnAttempts);

        match next {
            Next::Finish(state, reason) => {
                job.state = state;
                job.last_error = (state != IpnState::Delivered).then_some(reason.clone());
                job.next_attempt_at = None;
                if self.store.record_ipn_progress(id, &job, now).await? {
                    report_end(&job, &reason);
                } else {
                    tracing::info!(transaction_id = %id, outcome = %state, "another copy of the job ended it first; its outcome stands");
                }
                Ok(Disposition::Done)
            }
            Next::RetryAfter(delay) => {
                job.last_error = failure_reason(&tried);
                job.next_attempt_at = Some(now + delay);
                if !self.store.record_ipn_progress(id, &job, now).await? {
                    // Another copy ended the job meanwhile.
                    return Ok(Disposition::Done);
                }
                self.queue.retry_after(receipt, delay).await?;
                Ok(Disposition::Again)
            }
            Next::Exhaust => {
                job.state = IpnState::Exhausted;
                job.last_error = failure_reason(&tried);
                job.next_attempt_at = None;
                // Dead-letter first: if recording fails after, the job is
                // tried again rather than lost.
                self.queue
                    .dead_letter(&dead_letter(job_message.clone(), &job, now))
                    .await?;
                if self.store.record_ipn_progress(id, &job, now).await? {
                    metrics::count(Metric::IpnDeadLettered);
                    tracing::error!(transaction_id = %id, attempts = job.attempts, last_error = ?job.last_error, alert = "ipn_dead_lettered", "IPN schedule spent; job is in the dead-letter queue");
                }
                Ok(Disposition::Done)
            }
        }
    }
}

/// Why the attempt did not end the job: a failure or a rejection the status
/// API could not confirm.
fn failure_reason(tried: &tikivip_domain::Attempt) -> Option<String> {
    match tried {
        tikivip_domain::Attempt::Failed(reason) => Some(reason.clone()),
        tikivip_domain::Attempt::Rejected(code, message) => Some(format!(
            "Tiki rejected the IPN with code {code} ({message}); its status API could not confirm it"
        )),
        tikivip_domain::Attempt::Delivered => None,
    }
}

fn dead_letter(message: IpnMessage, job: &IpnJob, now: Timestamp) -> DeadLetter {
    DeadLetter {
        message,
        ipn: job.ipn.clone(),
        attempts: job.attempts,
        last_error: job.last_error.clone(),
        dead_at: now,
    }
}

fn duration_between(from: Timestamp, to: Timestamp) -> Duration {
    Duration::try_from(to - from).unwrap_or_default()
}

/// Logs how a job ended; a refund required, an unpaid success and a status
/// mismatch are alerts.
fn report_end(job: &IpnJob, reason: &str) {
    let id = &job.ipn.transaction_id;
    metrics::count(match job.state {
        IpnState::RefundRequired => Metric::IpnRefundRequired,
        IpnState::Rejected => Metric::IpnRejected,
        IpnState::UnpaidSuccess => Metric::IpnUnpaidSuccess,
        IpnState::StatusMismatch => Metric::IpnStatusMismatch,
        _ => Metric::IpnDelivered,
    });
    match job.state {
        IpnState::UnpaidSuccess => {
            tracing::error!(transaction_id = %id, tiki_transaction_id = %job.ipn.reference_transaction_id, %reason, alert = "unpaid_success", "Tiki reports SUCCESS for a payment that failed: it may be granting a membership that was never paid")
        }
        IpnState::StatusMismatch => {
            tracing::error!(transaction_id = %id, tiki_transaction_id = %job.ipn.reference_transaction_id, %reason, alert = "status_mismatch", "Tiki's status answer does not match the transaction we hold")
        }
        IpnState::RefundRequired => {
            tracing::error!(transaction_id = %id, tiki_transaction_id = %job.ipn.reference_transaction_id, %reason, alert = "refund_required", "Tiki will not honour this payment: refund the customer")
        }
        IpnState::Rejected => {
            tracing::warn!(transaction_id = %id, %reason, alert = "ipn_rejected", "Tiki rejected the FAILURE notice")
        }
        _ => {
            tracing::info!(transaction_id = %id, attempts = job.attempts, %reason, "IPN delivered")
        }
    }
}
