//! `postline users …`: dashboard users of the first team, for the operator at the
//! console (the first admin is also made by `serve` on first start).

use anyhow::Context;
use postline_core::{
    Postline,
    ids::TeamId,
    users::{Role, generate_password},
};

/// `postline users …`
#[derive(Debug, clap::Subcommand)]
pub enum UsersCommand {
    /// Create a user who signs in to the dashboard; prints a generated password
    /// unless POSTLINE_USER_PASSWORD gives one.
    Create {
        /// The address they sign in with.
        #[arg(long)]
        email: String,
        /// `admin` (manages API keys, downloads exports) or `member`.
        #[arg(long, default_value = "member")]
        role: String,
        /// A display name.
        #[arg(long)]
        name: Option<String>,
    },
    /// List the team's users.
    List,
}

pub async fn run(postline: &Postline, team_id: TeamId, command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Create { email, role, name } => {
            let role = Role::parse(&role)?;
            let given = std::env::var("POSTLINE_USER_PASSWORD").ok().filter(|p| !p.is_empty());
            let password = given.clone().unwrap_or_else(generate_password);
            let user = postline
                .create_user(team_id, &email, &password, role, name)
                .await
                .with_context(|| format!("creating the user {email}"))?;
            println!("Created {} {} ({}).", user.role.as_str(), user.email, user.id);
            if given.is_none() {
                println!("Their password, shown only this once: {password}");
            }
        }
        UsersCommand::List => {
            println!("{:<36}  {:<7}  EMAIL", "ID", "ROLE");
            for user in postline.list_users(team_id).await? {
                println!("{:<36}  {:<7}  {}", user.id.to_string(), user.role.as_str(), user.email);
            }
        }
    }
    Ok(())
}

/// The first admin, made when the installation has no user yet: its address and a
/// generated password to print once.
pub async fn ensure_first_admin(postline: &Postline, team_id: TeamId) -> anyhow::Result<Option<(String, String)>> {
    if postline.has_users().await? {
        return Ok(None);
    }
    let email = std::env::var("POSTLINE_ADMIN_EMAIL").ok().filter(|e| !e.is_empty());
    let email = email.unwrap_or_else(|| "admin@postline.local".to_string());
    let password = generate_password();
    match postline.create_user(team_id, &email, &password, Role::Admin, None).await {
        Ok(_) => Ok(Some((email, password))),
        // Several nodes starting together on one database: another one made it.
        Err(postline_core::Error::Conflict(_)) => Ok(None),
        Err(error) => Err(error).context("creating the first admin"),
    }
}
