//! The client against a real OpenSSH server (Debian's sshd, `make sftp`),
//! one test per rule of the delivery.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tikivip_sftp::test_support::{OpenSshServer, generate_key};
use tikivip_sftp::{Error, Sftp, SftpSettings};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};

/// `length` bytes that differ from one position to the next, so that a
/// misplaced chunk shows.
fn bytes(length: usize, seed: u8) -> Vec<u8> {
    (0..length)
        .map(|i| (i.wrapping_mul(7919) % 251) as u8 ^ seed)
        .collect()
}

/// A reader whose source breaks (a failing disk, a dropped upstream).
struct Broken;

impl AsyncRead for Broken {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Err(io::Error::other("the source broke")))
    }
}

#[tokio::test]
async fn an_upload_appears_under_its_final_name_with_its_exact_bytes() {
    let server = OpenSshServer::start();
    let inbound = server.mkdir("IF_TIKI_VIP/INBOUND");
    let sftp = Sftp::connect(&server.settings()).await.unwrap();

    // Several chunks and a partial one; and an empty file.
    let content = bytes(300_001, 0);
    sftp.upload(&inbound, "RECON_20260101.csv", &content)
        .await
        .unwrap();
    let written = sftp
        .upload_stream(&inbound, "EMPTY.csv", &b""[..])
        .await
        .unwrap();
    assert_eq!(written, 0);

    let on_disk =
        std::fs::read(server.root().join("IF_TIKI_VIP/INBOUND/RECON_20260101.csv")).unwrap();
    assert!(on_disk == content, "the bytes on the server differ");
    assert_eq!(
        sftp.list(&inbound).await.unwrap(),
        ["EMPTY.csv", "RECON_20260101.csv"]
    );
    sftp.close().await.unwrap();
}

#[tokio::test]
async fn no_partial_file_is_ever_visible_under_the_final_name() {
    let server = OpenSshServer::start();
    let inbound = server.mkdir("INBOUND");
    let sftp = Sftp::connect(&server.settings()).await.unwrap();
    let final_path = server.root().join("INBOUND/RECON.csv");
    let part_path = server.root().join("INBOUND/RECON.csv.part");

    // Midway: the first bytes are on the server, under the `.part` name only.
    let content = bytes(200_000, 1);
    let (mut source, reader) = tokio::io::duplex(64 * 1024);
    let upload = sftp.upload_stream(&inbound, "RECON.csv", reader);
    let feed = async {
        source.write_all(&content[..150_000]).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&part_path).map_or(0, |m| m.len()) < 65_536 {
            assert!(
                Instant::now() < deadline,
                "no bytes reached {}",
                part_path.display()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(!final_path.exists(), "the final name shows a partial file");
        source.write_all(&content[150_000..]).await.unwrap();
        drop(source);
    };
    let (written, ()) = tokio::join!(upload, feed);
    assert_eq!(written.unwrap(), 200_000);
    assert!(std::fs::read(&final_path).unwrap() == content);
    assert!(!part_path.exists());

    // A source that breaks after some bytes: an error, and the final name
    // never appears.
    let before = bytes(100_000, 2);
    let reader = before.as_slice().chain(Broken);
    match sftp.upload_stream(&inbound, "BROKEN.csv", reader).await {
        Err(Error::Read(error)) => assert_eq!(error.to_string(), "the source broke"),
        other => panic!("expected a Read error, got {other:?}"),
    }
    let names = sftp.list(&inbound).await.unwrap();
    assert!(!names.contains(&"BROKEN.csv".to_owned()), "{names:?}");
}

#[tokio::test]
async fn re_uploading_the_same_file_replaces_it() {
    let server = OpenSshServer::start();
    let inbound = server.mkdir("INBOUND");
    let final_path = server.root().join("INBOUND/RECON.csv");

    let sftp = Sftp::connect(&server.settings()).await.unwrap();
    sftp.upload(&inbound, "RECON.csv", b"first").await.unwrap();
    sftp.upload(&inbound, "RECON.csv", b"first").await.unwrap();
    assert_eq!(std::fs::read(&final_path).unwrap(), b"first");
    sftp.upload(&inbound, "RECON.csv", b"corrected")
        .await
        .unwrap();
    assert_eq!(std::fs::read(&final_path).unwrap(), b"corrected");
    sftp.close().await.unwrap();

    // The same through remove-then-rename, for a server without
    // posix-rename@openssh.com.
    let sftp = Sftp::connect(&server.settings())
        .await
        .unwrap()
        .without_posix_rename();
    sftp.upload(&inbound, "RECON.csv", b"corrected")
        .await
        .unwrap();
    sftp.upload(&inbound, "RECON.csv", b"again").await.unwrap();
    sftp.upload(&inbound, "NEW.csv", b"new").await.unwrap();
    assert_eq!(std::fs::read(&final_path).unwrap(), b"again");
    assert_eq!(sftp.list(&inbound).await.unwrap(), ["NEW.csv", "RECON.csv"]);
}

#[tokio::test]
async fn a_wrong_host_key_refuses_to_connect() {
    let server = OpenSshServer::start();
    let mut settings = server.settings();
    settings.host_key = generate_key().public_key;

    match Sftp::connect(&settings).await {
        Err(Error::HostKeyMismatch {
            address,
            expected,
            found,
        }) => {
            assert_eq!(address, format!("127.0.0.1:{}", server.port()));
            assert!(expected.starts_with("SHA256:"), "{expected}");
            assert!(found.starts_with("SHA256:"), "{found}");
            assert_ne!(expected, found);
        }
        Err(other) => panic!("expected HostKeyMismatch, got {other:?}"),
        Ok(_) => panic!("connected to a server with another host key"),
    }
    // Refused before authenticating: our key was never offered to it.
    assert!(
        !server.log().contains("Accepted publickey"),
        "{}",
        server.log()
    );
}

#[tokio::test]
async fn an_unknown_client_key_is_refused() {
    let server = OpenSshServer::start();
    let mut settings = server.settings();
    settings.private_key = generate_key().private_key;

    match Sftp::connect(&settings).await {
        Err(Error::Auth(message)) => assert!(message.contains("refused the key"), "{message}"),
        Err(other) => panic!("expected Auth, got {other:?}"),
        Ok(_) => panic!("connected with an unknown key"),
    }
}

#[tokio::test]
async fn listing_and_downloading_read_what_is_there() {
    let server = OpenSshServer::start();
    let outbound = server.mkdir("IF_TIKI_VIP/OUTBOUND");
    let dir = server.root().join("IF_TIKI_VIP/OUTBOUND");
    let content = bytes(100_000, 3);
    std::fs::write(dir.join("b.csv"), &content).unwrap();
    std::fs::write(dir.join("a.csv"), b"a").unwrap();
    std::fs::write(dir.join("empty.csv"), b"").unwrap();

    let sftp = Sftp::connect(&server.settings()).await.unwrap();
    assert_eq!(
        sftp.list(&outbound).await.unwrap(),
        ["a.csv", "b.csv", "empty.csv"]
    );
    assert!(sftp.download(&outbound, "b.csv").await.unwrap() == content);
    assert_eq!(sftp.download(&outbound, "a.csv").await.unwrap(), b"a");
    assert_eq!(sftp.download(&outbound, "empty.csv").await.unwrap(), b"");
    assert!(sftp.list(&server.mkdir("EMPTY")).await.unwrap().is_empty());

    // What is not there is an error naming it.
    match sftp.download(&outbound, "missing.csv").await {
        Err(Error::Sftp(message)) => assert!(message.contains("missing.csv"), "{message}"),
        other => panic!("expected an Sftp error, got {other:?}"),
    }
    let missing = server.path("MISSING");
    assert!(matches!(sftp.list(&missing).await, Err(Error::Sftp(_))));
}

#[tokio::test]
async fn a_name_must_be_a_plain_file_name() {
    let server = OpenSshServer::start();
    let inbound = server.mkdir("INBOUND");
    let sftp = Sftp::connect(&server.settings()).await.unwrap();
    for name in ["", ".", "..", "../escape.csv", "sub/file.csv"] {
        assert!(
            matches!(sftp.upload(&inbound, name, b"x").await, Err(Error::Sftp(_))),
            "{name:?} accepted"
        );
    }
    assert!(!server.root().join("escape.csv").exists());
}

#[tokio::test]
async fn an_unreachable_server_times_out_with_a_clear_error() {
    // Nobody listens: refused at once.
    let server = OpenSshServer::start();
    let mut settings = server.settings();
    settings.port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let started = Instant::now();
    match Sftp::connect(&settings).await {
        Err(Error::Connect(message)) => {
            assert!(
                message.contains(&format!("127.0.0.1:{}", settings.port)),
                "{message}"
            );
        }
        Err(other) => panic!("expected Connect, got {other:?}"),
        Ok(_) => panic!("connected to a closed port"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // Something listens but never speaks SSH: a timeout after the settings'.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    settings.port = silent.local_addr().unwrap().port();
    settings.timeout = Duration::from_secs(1);
    let started = Instant::now();
    match Sftp::connect(&settings).await {
        Err(Error::Timeout(message)) => {
            assert!(
                message.contains(&format!("127.0.0.1:{}", settings.port)),
                "{message}"
            );
        }
        Err(other) => panic!("expected Timeout, got {other:?}"),
        Ok(_) => panic!("connected to a silent port"),
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
}

/// Compiled, never run: the client and its futures can go to spawned tasks
/// (a Lambda handler's, a `JoinSet`'s).
#[allow(dead_code)]
fn the_client_and_its_futures_are_send(sftp: &Sftp, settings: &SftpSettings) {
    fn send<T: Send>(_: T) {}
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Sftp>();
    send(Sftp::connect(settings));
    send(sftp.upload("dir", "name", b""));
    send(sftp.upload_stream("dir", "name", tokio::io::empty()));
    send(sftp.list("dir"));
    send(sftp.download("dir", "name"));
}
