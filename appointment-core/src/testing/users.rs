//! Users: registration keeps emails (whatever their case) and phone numbers unique.

use super::{Fixture, email, new_user};
use crate::{Duplicate, Entity, Error, Store};

/// Users: unique email (case-insensitive) and phone.
pub async fn users_are_unique_by_email_and_phone<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let u = f
        .sched
        .register_user(new_user("Ann", "ann@example.com", Some("+4915112345678")))
        .await
        .expect("register");
    assert_eq!(f.sched.user(u.id).await.expect("get").email, u.email);
    let found = f
        .sched
        .user_by_email(&email("ANN@example.com"))
        .await
        .expect("lookup");
    assert_eq!(found.map(|x| x.id), Some(u.id));
    assert_err!(
        f.sched
            .register_user(new_user("Ann 2", "Ann@Example.com", None))
            .await,
        Error::Duplicate(Duplicate::UserEmail)
    );
    assert_err!(
        f.sched
            .register_user(new_user(
                "Ann 3",
                "ann3@example.com",
                Some("+49 151 12345678")
            ))
            .await,
        Error::Duplicate(Duplicate::UserPhone)
    );
    // Two users without phones are fine.
    f.user("B", "b@example.com").await;
    f.user("C", "c@example.com").await;
    assert_err!(
        f.sched.user(crate::UserId::new()).await,
        Error::NotFound(Entity::User)
    );
}
