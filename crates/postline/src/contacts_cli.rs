//! `postline contacts …`: bulk work on the first team's contacts.
//!
//! `import FILE.csv` queues an import and works through it here, showing progress (if a
//! running server takes the import first, this follows its progress instead), then
//! prints the counts and the first rows that could not be imported. `add-to-segment`,
//! `subscribe` and `delete` act on many contacts at once (ids or addresses, or `-` to
//! read them from stdin), reporting each one that fails.

use std::{io::Write, time::Duration};

use anyhow::Context;
use postline_core::{
    Postline,
    audience::imports::{ContactImport, ImportStatus},
    ids::{SegmentId, TeamId, TopicId},
};
use serde_json::{Map, Value};

use crate::cli::ContactsCommand;

fn show(import: &ContactImport) {
    let c = &import.counts;
    eprint!(
        "\r{} rows: {} created, {} updated, {} skipped, {} failed   ",
        c.total, c.created, c.updated, c.skipped, c.failed
    );
    let _ = std::io::stderr().flush();
}

pub async fn run(postline: &Postline, team_id: TeamId, command: ContactsCommand) -> anyhow::Result<()> {
    match command {
        ContactsCommand::Import { file, column_map, on_conflict, segment } => {
            import(postline, team_id, file, column_map, on_conflict, segment).await
        }
        ContactsCommand::AddToSegment { segment, contacts } => {
            let segment = SegmentId::parse(&segment)?;
            postline.get_segment(team_id, segment).await?;
            each(contacts, "added", |contact| async move {
                postline.add_contact_to_segment(team_id, &contact, segment).await.map(|_| ())
            })
            .await
        }
        ContactsCommand::Subscribe { topic, contacts, opt_out } => {
            let topic = TopicId::parse(&topic)?;
            postline.get_topic(team_id, topic).await?;
            let subscription = if opt_out { "opt_out" } else { "opt_in" };
            let choice = serde_json::json!([{"id": topic, "subscription": subscription}]);
            each(contacts, subscription, |contact| {
                let choice = choice.clone();
                async move { postline.update_contact_topics(team_id, &contact, &choice).await.map(|_| ()) }
            })
            .await
        }
        ContactsCommand::Delete { contacts } => {
            each(
                contacts,
                "deleted",
                |contact| async move { postline.delete_contact(team_id, &contact).await.map(|_| ()) },
            )
            .await
        }
    }
}

/// The contacts named on the command line, or read from stdin (one per line) for `-`.
fn contact_list(given: Vec<String>) -> anyhow::Result<Vec<String>> {
    if given.iter().any(|c| c == "-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
        return Ok(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect());
    }
    Ok(given)
}

/// Applies `action` to each contact, reporting failures one by one; fails if any did.
async fn each<F, Fut>(contacts: Vec<String>, done: &str, action: F) -> anyhow::Result<()>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = postline_core::Result<()>>,
{
    let contacts = contact_list(contacts)?;
    anyhow::ensure!(
        !contacts.is_empty(),
        "name at least one contact (an id or an address), or - to read them from stdin"
    );
    let mut failed = 0;
    for contact in &contacts {
        if let Err(error) = action(contact.clone()).await {
            failed += 1;
            eprintln!("{contact}: {error}");
        }
    }
    println!("{} of {} contacts {done}", contacts.len() - failed, contacts.len());
    anyhow::ensure!(failed == 0, "{failed} contacts could not be {done}");
    Ok(())
}

async fn import(
    postline: &Postline,
    team_id: TeamId,
    file: std::path::PathBuf,
    column_map: Option<String>,
    on_conflict: String,
    segment: Vec<String>,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let mut fields = Map::new();
    if let Some(map) = column_map {
        fields.insert("column_map".into(), Value::String(map));
    }
    fields.insert("on_conflict".into(), Value::String(on_conflict));
    if !segment.is_empty() {
        fields.insert("segments".into(), Value::String(serde_json::to_string(&segment)?));
    }
    let import = postline.create_contact_import(team_id, &bytes, &fields).await?;
    eprintln!("import {} queued ({} bytes)", import.id, bytes.len());
    let ours = import.id;
    let progress = |i: &ContactImport| {
        if i.id == ours {
            show(i);
        }
        true
    };
    postline.run_contact_imports(&progress).await?;
    // Another process (a running server) may have taken it: follow it there.
    let (done, errors) = loop {
        let (current, errors) = postline.get_contact_import(team_id, ours).await?;
        if matches!(current.status, ImportStatus::Completed | ImportStatus::Failed) {
            break (current, errors);
        }
        show(&current);
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    show(&done);
    eprintln!();
    if let Some(failure) = &done.failure {
        anyhow::bail!("import {} failed: {failure}", done.id);
    }
    println!("import {} {}", done.id, done.status.as_str());
    for error in errors.iter().take(20) {
        println!("  row {}: {}", error.row, error.message);
    }
    if done.counts.failed > 20 {
        println!("  … {} rows in all could not be imported (GET /contacts/imports/{})", done.counts.failed, done.id);
    }
    Ok(())
}
