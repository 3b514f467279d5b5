//! Micro-benchmarks of the hot paths: `cargo bench --bench micro`.
//! (The HTTP benchmarks live in `bench/` and run with `make bench`.)

use std::hint::black_box;

use authenticon::crypto::passwords::{validate_password, UserAttributes};
use authenticon::domain::Secret;
use authenticon::http::models::UserResponse;
use authenticon::store::{UserRow, UserWithRoles};
use authenticon::tokens::{Claims, JwtCodec, TokenType};
use authenticon::Config;
use criterion::{criterion_group, criterion_main, Criterion};

fn claims() -> Claims {
    let now = jsonwebtoken::get_current_timestamp();
    Claims {
        token_type: TokenType::Access,
        exp: now + 300,
        iat: now,
        jti: "0123456789abcdef0123456789abcdef".into(),
        user_id: "3187926a-0bb5-4953-ba1b-c4b023c124f0".into(),
        sub: "3187926a-0bb5-4953-ba1b-c4b023c124f0".into(),
        sid: "a37f16ec20db465ab8a2e3d0798cf270".into(),
        username: Some("alice".into()),
        roles: Some(vec!["editor".into()]),
        iss: None,
        aud: None,
        nbf: None,
    }
}

fn user() -> UserWithRoles {
    UserWithRoles {
        user: UserRow {
            id: "3187926a-0bb5-4953-ba1b-c4b023c124f0".into(),
            username: "alice".into(),
            email: "alice@example.com".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into(),
            is_active: true,
            is_superuser: false,
            date_joined: 1_795_678_857,
            last_login: Some(1_795_678_900),
            email_verified: false,
            password_changed_at: 1_795_678_857,
            has_2fa: false,
        },
        roles: vec!["editor".into()],
        permissions: vec!["articles.edit".into(), "reports.view".into()],
    }
}

fn tokens(c: &mut Criterion) {
    let codec = JwtCodec::new(&Config::default(), &Secret::new("bench-secret-0123456789-abcdefghijklmnop"));
    let token = codec.sign(claims()).expect("sign");
    c.bench_function("token sign (HS256)", |b| b.iter(|| codec.sign(black_box(claims()))));
    c.bench_function("token verify (HS256, access)", |b| {
        b.iter(|| {
            codec.verify(black_box(&token), Some(TokenType::Access), jsonwebtoken::get_current_timestamp())
        })
    });
}

fn passwords(c: &mut Criterion) {
    let attrs = UserAttributes { username: "alice", email: "alice@example.com" };
    c.bench_function("password validation (4 Django validators)", |b| {
        b.iter(|| validate_password(black_box("a long passphrase"), &attrs))
    });
}

fn claims_to_user(c: &mut Criterion) {
    let u = user();
    c.bench_function("claims-to-user (user object with permissions)", |b| {
        b.iter(|| serde_json::to_vec(&UserResponse::from(black_box(&u))))
    });
}

criterion_group!(micro, tokens, passwords, claims_to_user);
criterion_main!(micro);
