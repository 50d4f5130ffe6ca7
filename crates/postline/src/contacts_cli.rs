//! `postline contacts import FILE.csv`: queues an import of the first team's contacts
//! and works through it here, showing progress (if a running server takes the import
//! first, this follows its progress instead), then prints the counts and the first
//! rows that could not be imported.

use std::{io::Write, time::Duration};

use anyhow::Context;
use postline_core::{
    Postline,
    audience::imports::{ContactImport, ImportStatus},
    ids::TeamId,
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
    let ContactsCommand::Import { file, column_map, on_conflict, segment } = command;
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
