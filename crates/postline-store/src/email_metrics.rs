//! The grouped reads behind `GET /emails/metrics` (see
//! `postline_core::emails::stats`): timeline events and accepted emails counted per
//! kind, 15-minute slot and sender (and email or broadcast when asked), and the
//! distinct (email, slot) pairs of opens and clicks.

use postline_core::{
    Result,
    clock::to_micros,
    emails::stats::{MetricRow, MetricRows, MetricsScan, SLOT_MICROS},
    ids::{BroadcastId, EmailId},
};
use sqlx::{AssertSqlSafe, any::AnyRow};

use crate::{
    Db,
    broadcasts::{json_text, people_only},
    error::db,
    rows,
};

/// The event kinds the metrics count.
const COUNTED: &str = "'sent', 'delivered', 'delivery_delayed', 'bounced', 'complained', 'suppressed', 'failed', 'opened', 'clicked', 'unsubscribed'";

/// The select list's grouping columns and the filters, shared by the queries. Binds:
/// $1 team, $2 start, $3 end, then the ids.
struct Shape {
    email: &'static str,
    broadcast: &'static str,
    filters: String,
    ids: Vec<String>,
}

fn shape(scan: &MetricsScan) -> Shape {
    let mut ids = Vec::new();
    let mut filters = String::new();
    let mut filter = |column: &str, values: Vec<String>| {
        if values.is_empty() {
            return;
        }
        let placeholders: Vec<String> =
            values.iter().enumerate().map(|(n, _)| format!("${}", 4 + ids.len() + n)).collect();
        filters.push_str(&format!(" AND {column} IN ({})", placeholders.join(", ")));
        ids.extend(values);
    };
    filter("e.id", scan.email_ids.iter().map(ToString::to_string).collect());
    filter("e.broadcast_id", scan.broadcast_ids.iter().map(ToString::to_string).collect());
    Shape {
        email: if scan.by_email { "e.id" } else { "CAST(NULL AS TEXT)" },
        broadcast: if scan.by_broadcast { "e.broadcast_id" } else { "CAST(NULL AS TEXT)" },
        filters,
        ids,
    }
}

fn row_from(row: &AnyRow) -> Result<MetricRow> {
    Ok(MetricRow {
        kind: rows::get(row, "kind")?,
        slot: rows::get(row, "slot")?,
        from: rows::get(row, "from_addr")?,
        email_id: rows::opt_uuid(row, "email_id")?.map(EmailId),
        broadcast_id: rows::opt_uuid(row, "broadcast_id")?.map(BroadcastId),
        bounce_type: rows::get(row, "bounce_type")?,
        count: u64::try_from(rows::get::<i64>(row, "n")?).unwrap_or_default(),
    })
}

impl Db {
    async fn metric_query(&self, sql: String, scan: &MetricsScan, ids: &[String]) -> Result<Vec<MetricRow>> {
        let mut query = sqlx::query(AssertSqlSafe(sql))
            .bind(scan.team_id.to_string())
            .bind(to_micros(scan.start))
            .bind(to_micros(scan.end));
        for id in ids {
            query = query.bind(id.clone());
        }
        let found = query.fetch_all(&self.pool).await.map_err(db)?;
        found.iter().map(row_from).collect()
    }
}

pub(crate) async fn metric_rows(store: &Db, scan: &MetricsScan) -> Result<MetricRows> {
    let Shape { email, broadcast, filters, ids } = shape(scan);
    let people = people_only(store.backend);
    let bounce = json_text(store.backend, "ev.data", &["bounce", "type"]);
    let mut groups = vec!["1", "2", "3", "6"];
    if scan.by_email {
        groups.push("4");
    }
    if scan.by_broadcast {
        groups.push("5");
    }
    let events = format!(
        "SELECT ev.kind AS kind, ev.created_at / {SLOT_MICROS} AS slot, e.from_addr AS from_addr, {email} AS email_id, \
         {broadcast} AS broadcast_id, CASE WHEN ev.kind = 'bounced' THEN {bounce} END AS bounce_type, COUNT(*) AS n \
         FROM email_events ev JOIN emails e ON e.id = ev.email_id \
         WHERE e.team_id = $1 AND ev.created_at >= $2 AND ev.created_at < $3 AND ev.kind IN ({COUNTED}) \
         AND {people}{filters} GROUP BY {}",
        groups.join(", ")
    );
    let mut received_groups = vec!["2", "3"];
    if scan.by_email {
        received_groups.push("4");
    }
    if scan.by_broadcast {
        received_groups.push("5");
    }
    let received = format!(
        "SELECT 'received' AS kind, e.created_at / {SLOT_MICROS} AS slot, e.from_addr AS from_addr, {email} AS email_id, \
         {broadcast} AS broadcast_id, CAST(NULL AS TEXT) AS bounce_type, COUNT(*) AS n FROM emails e \
         WHERE e.team_id = $1 AND e.created_at >= $2 AND e.created_at < $3{filters} GROUP BY {}",
        received_groups.join(", ")
    );
    let engaged = format!(
        "SELECT DISTINCT ev.kind AS kind, ev.created_at / {SLOT_MICROS} AS slot, e.from_addr AS from_addr, \
         e.id AS email_id, {broadcast} AS broadcast_id, CAST(NULL AS TEXT) AS bounce_type, 1 AS n \
         FROM email_events ev JOIN emails e ON e.id = ev.email_id \
         WHERE e.team_id = $1 AND ev.created_at >= $2 AND ev.created_at < $3 AND ev.kind IN ('opened', 'clicked') \
         AND {people}{filters}"
    );
    let mut counts = store.metric_query(events, scan, &ids).await?;
    counts.extend(store.metric_query(received, scan, &ids).await?);
    let engaged = store.metric_query(engaged, scan, &ids).await?;
    Ok(MetricRows { counts, engaged })
}
