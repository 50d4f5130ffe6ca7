//! The inbound server's recipient policy: core's routing answer as SMTP replies.
//! Only Postline's own addresses are accepted; a domain it does not receive for is
//! refused as relaying (there is no open relay), and a store failure defers the
//! recipient rather than refusing it for good.

use postline_core::{Postline, receiving::route::Route};
use postline_inbound::{Recipients, Reply, Verdict};

/// [`Recipients`] over [`Postline::route_recipient`].
pub struct RoutePolicy(pub Postline);

#[async_trait::async_trait]
impl Recipients for RoutePolicy {
    async fn check(&self, address: &str) -> Verdict {
        match self.0.route_recipient(address).await {
            Ok(Route::Receiving { .. } | Route::Bounce { .. }) => Verdict::Accept,
            Ok(Route::NotOurDomain) => Verdict::Refuse(Reply::new(
                550,
                "5.7.1",
                format!("Relaying denied: this server does not receive mail for <{address}>"),
            )),
            Ok(Route::NoSuchAddress) => {
                Verdict::Refuse(Reply::new(550, "5.1.1", format!("No such recipient here: <{address}>")))
            }
            Err(error) => {
                tracing::warn!(%error, address, "could not route an inbound recipient");
                Verdict::Refuse(Reply::new(451, "4.3.0", "Temporary failure looking up the recipient; try again later"))
            }
        }
    }
}
