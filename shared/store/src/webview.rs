//! Where to send a user back after paying, kept from their webview request
//! (`POST /v1/webview`) until Tiki creates the transaction for them.
//!
//! One item per user (`identify_code`), holding Tiki's checkout-result URL and
//! request id: no phone number, no name. A newer request replaces an older
//! one, never the reverse (the write's condition). Expiry is checked in code
//! ([`CheckoutReturn::is_fresh`]); the table has no TTL.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use tikivip_domain::wire::Text;
use tikivip_domain::{CheckoutReturn, IdentifyCode};

use crate::codec::{Item, Reader, attr, item_with_key, rfc3339, s};
use crate::schema::checkout_return_key;
use crate::{Error, Store};

mod field {
    pub const URL_CHECKOUT_RESULT: &str = "url_checkout_result";
}

impl Store {
    /// Keeps the checkout-result URL of a user's webview request, unless a
    /// newer one is kept already.
    pub async fn put_checkout_return(&self, webview: &CheckoutReturn) -> Result<(), Error> {
        let mut item: Item = item_with_key(checkout_return_key(webview.identify_code.as_str()));
        item.insert(
            attr::IDENTIFY_CODE.into(),
            s(webview.identify_code.as_str()),
        );
        item.insert(
            field::URL_CHECKOUT_RESULT.into(),
            s(webview.url_checkout_result.as_str()),
        );
        item.insert(attr::REQUEST_ID.into(), s(webview.request_id.as_str()));
        item.insert(attr::CREATED_AT.into(), s(rfc3339(webview.created_at)));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            // RFC 3339 in UTC sorts as time.
            .condition_expression("attribute_not_exists(pk) OR created_at <= :created_at")
            .expression_attribute_values(":created_at", s(rfc3339(webview.created_at)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // A newer request of the same user is kept: it is the way back.
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The last webview request's way back for a user, fresh or not.
    pub async fn checkout_return(
        &self,
        identify_code: &str,
    ) -> Result<Option<CheckoutReturn>, Error> {
        let Some(item) = self.get(checkout_return_key(identify_code)).await? else {
            return Ok(None);
        };
        let r = Reader::new(&item, "checkout return");
        Ok(Some(CheckoutReturn {
            identify_code: r.parsed(attr::IDENTIFY_CODE, IdentifyCode::parse)?,
            url_checkout_result: r.parsed(field::URL_CHECKOUT_RESULT, Text::new)?,
            request_id: r.s(attr::REQUEST_ID)?.to_owned(),
            created_at: r.timestamp(attr::CREATED_AT)?,
        }))
    }
}
