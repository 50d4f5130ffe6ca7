//! `postline domains add|list|verify|records`: the records as a table a user can
//! paste into their DNS provider, and each record's diagnostics.

use anyhow::bail;
use postline_core::{
    Postline,
    clock::api_time,
    domains::{Domain, manage::DomainView},
    ids::{DomainId, TeamId},
    pagination::{Cursor, PageRequest},
};
use serde_json::json;

use crate::cli::DomainsCommand;

/// Runs a `domains` subcommand for a team.
pub async fn run(postline: &Postline, team_id: TeamId, command: DomainsCommand) -> anyhow::Result<()> {
    match command {
        DomainsCommand::Add { name, region, return_path } => {
            let body = json!({"name": name, "region": region, "custom_return_path": return_path});
            let view = postline.create_domain(team_id, &body).await?;
            println!(
                "Added {} ({}). Publish these records, then run `postline domains verify {}`:\n",
                view.domain.name, view.domain.region, view.domain.name
            );
            print_records(&view);
        }
        DomainsCommand::List => {
            println!("{:<36}  {:<32}  {:<18}  {:<14}  CREATED", "ID", "NAME", "STATUS", "REGION");
            let mut page = PageRequest { limit: 100, cursor: Cursor::Start };
            loop {
                let domains = postline.list_domains(team_id, page.clone()).await?;
                for d in &domains.items {
                    println!(
                        "{:<36}  {:<32}  {:<18}  {:<14}  {}",
                        d.id.to_string(),
                        d.name,
                        d.status.as_str(),
                        d.region,
                        api_time(d.created_at)
                    );
                }
                match (domains.has_more, domains.items.last()) {
                    (true, Some(last)) => page.cursor = Cursor::After(last.id.to_string()),
                    _ => break,
                }
            }
        }
        DomainsCommand::Verify { domain } => {
            let found = find(postline, team_id, &domain).await?;
            postline.verify_domain(team_id, found.id).await?;
            let pending = postline.get_domain(team_id, found.id).await?;
            let before = pending.status;
            let checked = postline.check_domain(pending).await?;
            postline.save_checked_domain(checked.clone(), before).await?;
            println!("{}: {}\n", checked.name, checked.status.as_str());
            print_records(&postline.domain_view(checked).await?);
        }
        DomainsCommand::Records { domain } => {
            let found = find(postline, team_id, &domain).await?;
            print_records(&postline.domain_view(found).await?);
        }
        DomainsCommand::RotateKey { domain } => {
            let found = find(postline, team_id, &domain).await?;
            let key = postline.rotate_dkim_key(team_id, found.id).await?;
            println!(
                "New key `{}` for {}: publish its record below; it signs once `postline domains verify {}` finds it.\n",
                key.selector, found.name, found.name
            );
            print_records(&postline.domain_view(postline.get_domain(team_id, found.id).await?).await?);
        }
        DomainsCommand::RemoveKey { domain, selector } => {
            let found = find(postline, team_id, &domain).await?;
            postline.remove_dkim_key(team_id, found.id, &selector).await?;
            println!("Removed the retired key `{selector}` of {}; you can delete its DNS record.", found.name);
        }
    }
    Ok(())
}

async fn find(postline: &Postline, team_id: TeamId, raw: &str) -> anyhow::Result<Domain> {
    if let Ok(id) = DomainId::parse(raw) {
        return Ok(postline.get_domain(team_id, id).await?);
    }
    match postline.team_domain(team_id, raw).await? {
        Some(domain) => Ok(domain),
        None => bail!("no domain `{raw}` in this team; see `postline domains list`"),
    }
}

fn print_records(view: &DomainView) {
    println!("{:<6}  {:<28}  {:<8}  {:<10}  {:<16}  VALUE", "TYPE", "NAME", "PRIORITY", "TTL", "STATUS");
    for record in &view.records {
        let priority = record.expected.priority.map(|p| p.to_string()).unwrap_or_default();
        println!(
            "{:<6}  {:<28}  {:<8}  {:<10}  {:<16}  {}",
            record.expected.record_type,
            record.expected.name,
            priority,
            "Auto",
            record.status.as_str(),
            record.expected.value
        );
        if let Some(check) = &record.check {
            for diagnostic in &check.diagnostics {
                println!("        ! {}: {}", diagnostic.code, diagnostic.message);
            }
        }
    }
    for advisory in &view.domain.advisories {
        println!("{} {}: {}", if advisory.ok { "  ok" } else { "  --" }, advisory.topic, advisory.message);
    }
}
