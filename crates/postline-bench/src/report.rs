//! The results as Markdown: every Postline figure beside the reference measured in the
//! same run, and each target from issue 7 with whether this run met it.

use std::fmt::Write as _;

use serde_json::Value;

fn num(value: &Value) -> f64 {
    value.as_f64().unwrap_or_default()
}

fn run<'a>(results: &'a Value, label: &str) -> Option<&'a Value> {
    results["postline"].as_array()?.iter().find(|r| r["label"] == label)
}

fn best_accept(run: &Value) -> f64 {
    run["accept"].as_array().into_iter().flatten().map(|r| num(&r["accepted_per_s"])).fold(0.0, f64::max)
}

fn offered(run: &Value, rate: u64) -> Option<&Value> {
    run["offered"].as_array()?.iter().find(|r| r["offered_per_s"] == rate)
}

pub fn markdown(results: &Value) -> String {
    let mut out = String::new();
    let n = &results["emails"];
    let reference = &results["reference"];
    let _ =
        writeln!(out, "### End to end ({n} emails unless said, 2 KB HTML, one recipient each, to the loopback sink)\n");
    let _ = writeln!(out, "| run | cold start | idle RSS | peak RSS | end to end |\n|---|---|---|---|---|");
    for r in results["postline"].as_array().into_iter().flatten().filter(|r| r["end_to_end"].is_object()) {
        let _ = writeln!(
            out,
            "| Postline, {} ({} emails) | {:.0} ms | {:.1} MiB | {:.1} MiB | {:.0} msgs/s |",
            r["label"].as_str().unwrap_or_default(),
            r["end_to_end"]["emails"],
            num(&r["cold_start_ms"]),
            num(&r["idle_rss_mib"]),
            num(&r["peak_rss_mib"]),
            num(&r["end_to_end"]["per_s"])
        );
    }
    for (key, label) in [
        ("postfix_opendkim", "Postfix + OpenDKIM RSA-2048 (reference)"),
        ("postfix", "Postfix, unsigned (reference)"),
        ("raw", "smtp-source → sink (the loopback path's limit)"),
    ] {
        match reference[key]["per_s"].as_f64() {
            Some(rate) => writeln!(out, "| {label} | | | | {rate:.0} msgs/s |"),
            None => writeln!(out, "| {label} | | | | not measured: {} |", reference["error"].as_str().unwrap_or("?")),
        }
        .unwrap_or_default();
    }

    let postgres_runs: Vec<&Value> = results["postline"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["end_to_end"]["postgres_cpu_ms_per_email"].is_number())
        .collect();
    if !postgres_runs.is_empty() {
        let _ = writeln!(out, "\n### PostgreSQL: cost per email and a churning queue\n");
        let _ = writeln!(
            out,
            "| run | emails | database CPU per email | emails/s one database core carries | first tenth | last tenth |\n|---|---|---|---|---|---|"
        );
        for r in postgres_runs {
            let e2e = &r["end_to_end"];
            let cpu = num(&e2e["postgres_cpu_ms_per_email"]);
            let tenths = e2e["per_s_by_tenth"].as_array().cloned().unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {} | {cpu:.2} ms | {:.0} | {:.0} msgs/s | {:.0} msgs/s |",
                r["label"].as_str().unwrap_or_default(),
                e2e["emails"],
                1000.0 / cpu.max(0.001),
                tenths.first().map_or(0.0, num),
                tenths.last().map_or(0.0, num)
            );
        }
    }

    for r in results["postline"].as_array().into_iter().flatten().filter(|r| r["import"].is_object()) {
        let import = &r["import"];
        let _ = writeln!(
            out,
            "\n### Contact import\n\n| rows | file | upload | total | rows/s | peak RSS |\n|---|---|---|---|---|---|\n\
             | {} | {:.0} MiB | {:.1} s | {:.1} s | {:.0} | {:.1} MiB |",
            import["rows"],
            num(&import["file_mib"]),
            num(&import["upload_seconds"]),
            num(&import["seconds"]),
            num(&import["rows_per_s"]),
            num(&r["peak_rss_mib"])
        );
    }

    for r in results["postline"].as_array().into_iter().flatten().filter(|r| r["broadcast"].is_object()) {
        let broadcast = &r["broadcast"];
        let _ = writeln!(
            out,
            "\n### Broadcast (one personalised broadcast, each copy DKIM-signed with its own unsubscribe link)\n\n\
             | contacts | fan-out | queued/s | all delivered | delivered/s | Postfix + OpenDKIM msgs/s | peak RSS |\n\
             |---|---|---|---|---|---|---|\n| {} | {:.1} s | {:.0} | {:.1} s | {:.0} | {:.0} | {:.1} MiB |",
            broadcast["contacts"],
            num(&broadcast["fan_out_seconds"]),
            num(&broadcast["queued_per_s"]),
            num(&broadcast["seconds"]),
            num(&broadcast["delivered_per_s"]),
            num(&results["reference"]["postfix_opendkim"]["per_s"]),
            num(&r["peak_rss_mib"])
        );
    }

    for r in results["postline"].as_array().into_iter().flatten().filter(|r| r["webhooks"].is_object()) {
        let webhooks = &r["webhooks"];
        let _ = writeln!(
            out,
            "\n### Webhooks (one signed `email.delivered` per sandbox email, verified by the receiver)\n\n\
             | webhooks | first request to last webhook | webhooks/s | accepted/s | peak RSS |\n\
             |---|---|---|---|---|\n| {} | {:.1} s | {:.0} | {:.0} | {:.1} MiB |",
            webhooks["webhooks"],
            num(&webhooks["seconds"]),
            num(&webhooks["per_s"]),
            num(&webhooks["accepted_per_s"]),
            num(&r["peak_rss_mib"])
        );
    }

    let _ = writeln!(out, "\n### Accept (`POST /emails`, sandbox recipient)\n");
    let _ = writeln!(out, "| run | load | accepted/s | p50 | p99 | failed |\n|---|---|---|---|---|---|");
    for r in results["postline"].as_array().into_iter().flatten() {
        let label = r["label"].as_str().unwrap_or_default();
        for row in r["accept"].as_array().into_iter().flatten() {
            let load = format!("{} clients", row["concurrency"]);
            accept_row(&mut out, label, &load, row);
        }
        for row in r["offered"].as_array().into_iter().flatten() {
            let load = format!("{} req/s offered", row["offered_per_s"]);
            accept_row(&mut out, label, &load, row);
        }
    }

    let _ = writeln!(out, "\n### Targets (this run)\n\n| target | measured | met |\n|---|---|---|");
    let sqlite = run(results, "SQLite, DKIM RSA-2048");
    let postgres = run(results, "PostgreSQL, DKIM RSA-2048");
    let e2e = |r: Option<&Value>| r.map_or(0.0, |r| num(&r["end_to_end"]["per_s"]));
    let postfix_dkim = num(&reference["postfix_opendkim"]["per_s"]);
    let postfix = num(&reference["postfix"]["per_s"]);
    let unsigned = e2e(run(results, "SQLite, unsigned"));
    if sqlite.is_none() {
        let _ = writeln!(out, "| (the SQLite run was not part of this run) | | |");
        return out;
    }
    let accept = sqlite.map_or(0.0, best_accept);
    let p99_2000 = sqlite.and_then(|r| offered(r, 2000)).map_or(f64::MAX, |r| num(&r["p99_ms"]));
    let mut target = |name: &str, measured: String, met: bool| {
        let _ = writeln!(out, "| {name} | {measured} | {} |", if met { "yes" } else { "**no**" });
    };
    let have_reference = postfix > 0.0 && postfix_dkim > 0.0;
    target("accept ≥ 5,000 emails/s (SQLite, best concurrency)", format!("{accept:.0}/s"), accept >= 5000.0);
    target("p99 ≤ 20 ms at 2,000 req/s offered (SQLite)", format!("{p99_2000:.1} ms"), p99_2000 <= 20.0);
    target("end to end, DKIM RSA-2048 ≥ 1,000 msgs/s", format!("{:.0} msgs/s", e2e(sqlite)), e2e(sqlite) >= 1000.0);
    if have_reference {
        target(
            "end to end, DKIM RSA-2048 ≥ 3× Postfix + OpenDKIM",
            format!("{:.1}×", e2e(sqlite) / postfix_dkim),
            e2e(sqlite) >= 3.0 * postfix_dkim,
        );
        target("unsigned ≥ 2× Postfix", format!("{:.1}×", unsigned / postfix), unsigned >= 2.0 * postfix);
    }
    let idle = sqlite.map_or(0.0, |r| num(&r["idle_rss_mib"]));
    target("idle RSS ≤ 50 MB", format!("{idle:.1} MiB"), idle * 1.048_576 <= 50.0);
    let cold = sqlite.map_or(0.0, |r| num(&r["cold_start_ms"]));
    target("cold start ≤ 1 s", format!("{cold:.0} ms"), cold <= 1000.0);
    if let Some(pg) = postgres {
        let accept_ratio = accept / best_accept(pg).max(1.0);
        target("PostgreSQL accept within 2× of SQLite", format!("{accept_ratio:.2}× slower"), accept_ratio <= 2.0);
        let e2e_ratio = e2e(sqlite) / e2e(Some(pg)).max(1.0);
        target("PostgreSQL end to end within 2× of SQLite", format!("{e2e_ratio:.2}× slower"), e2e_ratio <= 2.0);
    }
    out
}

fn accept_row(out: &mut String, label: &str, load: &str, row: &Value) {
    let _ = writeln!(
        out,
        "| {label} | {load} | {:.0} | {:.1} ms | {:.1} ms | {} |",
        num(&row["accepted_per_s"]),
        num(&row["p50_ms"]),
        num(&row["p99_ms"]),
        row["failed"]
    );
}
