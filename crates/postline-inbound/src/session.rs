//! The session: bytes in, [`Event`]s out. Commands are parsed by `smtp-proto` (which
//! also buffers partial lines and undoes dot-stuffing); what each verb does is in
//! [`crate::verbs`]. Pipelined commands are handled in order; processing pauses at a
//! message (until the caller stored it), at STARTTLS (until the upgrade) and at QUIT.

use smtp_proto::{
    Error as ParseError, Request,
    request::receiver::{DataReceiver, RequestReceiver},
};

use crate::Reply;

/// Longest command line accepted (RFC 5321 asks for at least 512 octets; extensions
/// make lines longer, so this is generous).
pub const MAX_COMMAND_LINE: usize = 4096;

/// What a session allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The name this server greets with.
    pub hostname: String,
    /// Largest message (bytes after dot-unstuffing); more is refused with 552.
    pub max_message_bytes: usize,
    /// Most recipients per message; more get 452 (the client sends them again later).
    pub max_recipients: usize,
    /// Protocol errors tolerated before the connection is closed with 421.
    pub max_errors: usize,
    /// Whether STARTTLS is offered (the listener has a certificate).
    pub starttls: bool,
    /// A submission port: AUTH is offered and required before MAIL.
    pub submission: bool,
    /// AUTH is offered on a connection that is not encrypted (an operator's choice
    /// for loopback; credentials would otherwise cross the network in clear).
    pub auth_without_tls: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            hostname: "localhost".into(),
            max_message_bytes: 40 * 1024 * 1024,
            max_recipients: 100,
            max_errors: 10,
            starttls: false,
            submission: false,
            auth_without_tls: false,
        }
    }
}

/// What the recipient policy says about one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    /// Refused, with the reply to give (550 for a domain Postline does not serve).
    Refuse(Reply),
}

/// Which recipients this server takes mail for (receiving domains, bounce
/// addresses), and — on submission ports — whose credentials are good.
#[async_trait::async_trait]
pub trait Recipients: Send + Sync {
    async fn check(&self, address: &str) -> Verdict;

    /// Checks AUTH credentials; `Some(identity)` when they are good. Ports without
    /// submission never ask.
    async fn authenticate(&self, _username: &str, _password: &str) -> Option<String> {
        None
    }
}

/// A received message with its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The client's EHLO/HELO name.
    pub helo: String,
    /// The reverse path; empty for a bounce (`MAIL FROM:<>`).
    pub mail_from: String,
    pub recipients: Vec<String>,
    /// The message as received (dot-stuffing undone).
    pub message: Vec<u8>,
    /// Whether it came over TLS.
    pub tls: bool,
    /// The identity the client authenticated as (submission), if any.
    pub auth: Option<String>,
}

/// What the caller must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Send this reply.
    Reply(Reply),
    /// The 220 for STARTTLS was sent: upgrade the connection, then call
    /// [`Session::tls_started`].
    StartTls,
    /// Store this message durably, then call [`Session::stored`] for the reply.
    Message(Envelope),
    /// Close the connection (after sending the replies before it).
    Close,
}

/// A parsed command, owned.
pub(crate) enum Command {
    Ehlo(String),
    Helo(String),
    Mail {
        from: String,
        size: usize,
    },
    Rcpt(String),
    Data,
    Rset,
    Noop,
    Vrfy,
    Help,
    Quit,
    StartTls,
    Auth {
        mechanism: u64,
        initial: String,
    },
    /// Known to SMTP but not offered here (BDAT, AUTH on port 25, ETRN…).
    NotOffered(&'static str),
}

impl Command {
    fn from_request(request: Request<std::borrow::Cow<'_, str>>) -> Command {
        match request {
            Request::Ehlo { host } | Request::Lhlo { host } => Command::Ehlo(host.into_owned()),
            Request::Helo { host } => Command::Helo(host.into_owned()),
            Request::Mail { from } => Command::Mail { from: from.address.into_owned(), size: from.size },
            Request::Rcpt { to } => Command::Rcpt(to.address.into_owned()),
            Request::Data => Command::Data,
            Request::Rset => Command::Rset,
            Request::Noop { .. } => Command::Noop,
            Request::Vrfy { .. } | Request::Expn { .. } => Command::Vrfy,
            Request::Help { .. } => Command::Help,
            Request::Quit => Command::Quit,
            Request::StartTls => Command::StartTls,
            Request::Auth { mechanism, initial_response } => {
                Command::Auth { mechanism, initial: initial_response.into_owned() }
            }
            other => Command::NotOffered(other.name()),
        }
    }
}

enum Mode {
    Command,
    /// Receiving DATA; `too_large` once the limit was passed (the rest is discarded).
    Data {
        too_large: bool,
    },
    /// A message was handed over; waiting for [`Session::stored`].
    Storing,
    /// Waiting for [`Session::tls_started`].
    Upgrading,
    /// Reading the client's answer to an AUTH challenge (one base64 line).
    Auth(crate::verbs::auth::Step),
    Closed,
}

/// One SMTP connection's state.
pub struct Session {
    pub(crate) limits: Limits,
    commands: RequestReceiver,
    data: DataReceiver,
    mode: Mode,
    /// Bytes received but not processed yet (pipelined after a pause).
    pending: Vec<u8>,
    pub(crate) helo: Option<String>,
    pub(crate) mail_from: Option<String>,
    pub(crate) recipients: Vec<String>,
    message: Vec<u8>,
    errors: usize,
    pub(crate) tls: bool,
    /// Who the client authenticated as (submission ports).
    pub(crate) auth: Option<String>,
}

impl Session {
    /// A session on a new connection (`tls` for implicit TLS).
    pub fn new(limits: Limits, tls: bool) -> Self {
        Session {
            limits,
            commands: RequestReceiver::default(),
            data: DataReceiver::new(),
            mode: Mode::Command,
            pending: Vec::new(),
            helo: None,
            mail_from: None,
            recipients: Vec::new(),
            message: Vec::new(),
            errors: 0,
            tls,
            auth: None,
        }
    }

    /// The greeting to send first.
    pub fn greeting(&self) -> Reply {
        Reply::plain(220, vec![format!("{} ESMTP Postline", self.limits.hostname)])
    }

    /// Takes bytes from the client; returns what to do, in order.
    pub async fn ingest(&mut self, bytes: &[u8], policy: &dyn Recipients) -> Vec<Event> {
        self.pending.extend_from_slice(bytes);
        self.run(policy).await
    }

    /// The caller stored the handed-over message (`Ok`) or did not (`Err`, with the
    /// reply to give: `451` when it could not store it, so the client tries again;
    /// `5xx` when the message itself is refused): the reply, then any commands
    /// pipelined behind it.
    pub async fn stored(&mut self, result: Result<(), Reply>, policy: &dyn Recipients) -> Vec<Event> {
        let reply = match result {
            Ok(()) => Reply::new(250, "2.0.0", "Message accepted"),
            Err(reply) => reply,
        };
        self.reset_transaction();
        self.mode = Mode::Command;
        let mut events = vec![Event::Reply(reply)];
        events.extend(self.run(policy).await);
        events
    }

    /// The connection is now encrypted: the session starts over (RFC 3207 §4.2).
    pub fn tls_started(&mut self) {
        self.tls = true;
        self.helo = None;
        self.reset_transaction();
        self.commands = RequestReceiver::default();
        // Anything sent in clear after STARTTLS must not be taken as encrypted input.
        self.pending.clear();
        self.mode = Mode::Command;
    }

    /// Forgets the transaction (MAIL, RCPTs, data); the EHLO name stays.
    pub(crate) fn reset_transaction(&mut self) {
        self.mail_from = None;
        self.recipients.clear();
        self.message.clear();
        self.data = DataReceiver::new();
    }

    /// Starts receiving the message (after DATA's 354).
    pub(crate) fn begin_data(&mut self) {
        self.data = DataReceiver::new();
        self.message.clear();
        self.mode = Mode::Data { too_large: false };
    }

    /// Counts a protocol error; past the limit the connection is closed.
    fn error(&mut self, reply: Reply, events: &mut Vec<Event>) {
        self.errors += 1;
        events.push(Event::Reply(reply));
        if self.errors >= self.limits.max_errors {
            events.push(Event::Reply(Reply::new(421, "4.7.0", "Too many errors; closing the connection")));
            events.push(Event::Close);
            self.mode = Mode::Closed;
        }
    }

    async fn run(&mut self, policy: &dyn Recipients) -> Vec<Event> {
        let input = std::mem::take(&mut self.pending);
        let mut bytes = input.iter();
        let mut events = Vec::new();
        loop {
            match self.mode {
                Mode::Storing | Mode::Upgrading | Mode::Closed => break,
                Mode::Auth(ref step) => {
                    let rest = bytes.as_slice();
                    let Some(end) = rest.iter().position(|b| *b == b'\n') else {
                        if rest.len() > MAX_COMMAND_LINE {
                            bytes = [].iter();
                            self.mode = Mode::Command;
                            self.error(Reply::new(500, "5.5.6", "Line too long"), &mut events);
                        }
                        break;
                    };
                    let line = String::from_utf8_lossy(&rest[..end]).trim_end_matches('\r').to_string();
                    bytes = rest[end + 1..].iter();
                    let step = step.clone();
                    self.mode = Mode::Command;
                    let reply = crate::verbs::auth::answer(self, step, &line, policy).await;
                    self.auth_reply(reply, &mut events);
                }
                Mode::Data { too_large } => {
                    let done = self.data.ingest(&mut bytes, &mut self.message);
                    let too_large = too_large || self.message.len() > self.limits.max_message_bytes;
                    if too_large {
                        // Keep reading to the end of the data, keeping nothing.
                        self.message.clear();
                    }
                    if !done {
                        self.mode = Mode::Data { too_large };
                        break;
                    }
                    if too_large {
                        self.reset_transaction();
                        self.mode = Mode::Command;
                        events.push(Event::Reply(crate::verbs::data::too_large(&self.limits)));
                        continue;
                    }
                    let envelope = Envelope {
                        helo: self.helo.clone().unwrap_or_default(),
                        mail_from: self.mail_from.clone().unwrap_or_default(),
                        recipients: self.recipients.clone(),
                        message: std::mem::take(&mut self.message),
                        tls: self.tls,
                        auth: self.auth.clone(),
                    };
                    self.mode = Mode::Storing;
                    events.push(Event::Message(envelope));
                }
                Mode::Command => {
                    // A complete line in one read is parsed whatever its length; refuse
                    // long ones here (partial lines are bounded by the parser's buffer).
                    let rest = bytes.as_slice();
                    if let Some(end) = rest.iter().position(|b| *b == b'\n')
                        && end > MAX_COMMAND_LINE
                    {
                        bytes = rest[end + 1..].iter();
                        self.error(Reply::new(500, "5.5.6", "Line too long"), &mut events);
                        continue;
                    }
                    let command = match self.commands.ingest(&mut bytes) {
                        Ok(request) => Command::from_request(request),
                        Err(ParseError::NeedsMoreData { .. }) => break,
                        Err(error) => {
                            let reply = parse_error(&error);
                            self.error(reply, &mut events);
                            continue;
                        }
                    };
                    self.command(command, policy, &mut events).await;
                }
            }
        }
        self.pending = bytes.as_slice().to_vec();
        events
    }

    async fn command(&mut self, command: Command, policy: &dyn Recipients, events: &mut Vec<Event>) {
        use crate::verbs::{data, ehlo, info, mail, quit, rcpt, rset, starttls};
        let reply = match command {
            Command::Ehlo(host) => ehlo::ehlo(self, host),
            Command::Helo(host) => ehlo::helo(self, host),
            Command::Mail { from, size } => mail::mail(self, from, size),
            Command::Rcpt(to) => rcpt::rcpt(self, to, policy).await,
            Command::Data => data::data(self),
            Command::Rset => rset::rset(self),
            Command::Noop => info::noop(),
            Command::Vrfy => info::vrfy(),
            Command::Help => info::help(),
            Command::Quit => {
                events.push(Event::Reply(quit::quit(self)));
                events.push(Event::Close);
                self.mode = Mode::Closed;
                return;
            }
            Command::StartTls => match starttls::starttls(self) {
                Ok(reply) => {
                    events.push(Event::Reply(reply));
                    events.push(Event::StartTls);
                    self.mode = Mode::Upgrading;
                    return;
                }
                Err(reply) => reply,
            },
            Command::Auth { mechanism, initial } => {
                let reply = crate::verbs::auth::auth(self, mechanism, initial, policy).await;
                self.auth_reply(reply, events);
                return;
            }
            Command::NotOffered(name) => Reply::new(502, "5.5.1", format!("{name} is not offered here")),
        };
        if reply.code >= 500 {
            self.error(reply, events);
        } else {
            events.push(Event::Reply(reply));
        }
    }
}

impl Session {
    /// Sends an AUTH step's reply: a challenge waits for the client's answer; a
    /// failure counts as an error (so guessing passwords ends the connection).
    fn auth_reply(&mut self, reply: crate::verbs::auth::Reply, events: &mut Vec<Event>) {
        use crate::verbs::auth::Reply as Auth;
        match reply {
            Auth::Challenge(reply, step) => {
                events.push(Event::Reply(reply));
                self.mode = Mode::Auth(step);
            }
            Auth::Done(reply) if reply.code >= 500 => self.error(reply, events),
            Auth::Done(reply) => events.push(Event::Reply(reply)),
        }
    }
}

/// The reply to a line `smtp-proto` could not parse.
fn parse_error(error: &ParseError) -> Reply {
    match error {
        ParseError::UnknownCommand => Reply::new(500, "5.5.1", "Unknown command"),
        ParseError::InvalidSenderAddress => Reply::new(501, "5.1.7", "Invalid sender address"),
        ParseError::InvalidRecipientAddress => Reply::new(501, "5.1.3", "Invalid recipient address"),
        ParseError::SyntaxError { syntax } => Reply::new(501, "5.5.4", format!("Syntax: {syntax}")),
        ParseError::InvalidParameter { param } => Reply::new(501, "5.5.4", format!("Invalid parameter {param}")),
        ParseError::UnsupportedParameter { param } => {
            Reply::new(555, "5.5.4", format!("Unsupported parameter {param}"))
        }
        ParseError::ResponseTooLong => Reply::new(500, "5.5.6", "Line too long"),
        ParseError::NeedsMoreData { .. } | ParseError::InvalidResponse { .. } => {
            Reply::new(500, "5.5.2", "Syntax error")
        }
    }
}
