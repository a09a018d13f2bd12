//! A real browser for the tests: Debian's headless Chromium
//! (`scripts/browser.sh install`), driven over the Chrome DevTools Protocol
//! on its websocket, on 127.0.0.1 only.
//!
//! Just what the tests need: open a page, evaluate JavaScript in it (to read
//! it and to press its buttons), wait until something holds.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Where the browser is: `$CHROMIUM`, else Debian's.
pub fn chromium_path() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A running headless Chromium with a fresh profile, and its first tab.
/// Dropping it ends the browser and deletes the profile.
pub struct Browser {
    child: Child,
    profile: PathBuf,
    browser_ws: String,
    page: Socket,
    next_id: u64,
}

impl Browser {
    pub async fn launch() -> Browser {
        let path = chromium_path();
        assert!(
            path.exists(),
            "{} is missing: run `bash scripts/browser.sh install` (make test does)",
            path.display()
        );
        let profile = std::env::temp_dir().join(format!(
            "tikivip-chromium-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&profile).unwrap();
        let mut child = Command::new(&path)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--window-size=390,844",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", path.display()));

        // Chromium prints its DevTools address on stderr; the rest of its
        // output is drained so that it never blocks on a full pipe.
        let stderr = child.stderr.take().unwrap();
        let (address, listening) = mpsc::channel();
        std::thread::spawn(move || {
            let mut address = Some(address);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ")
                    && let Some(address) = address.take()
                {
                    let _ = address.send(url.trim().to_owned());
                }
            }
        });
        let browser_ws = listening
            .recv_timeout(Duration::from_secs(30))
            .expect("Chromium printed its DevTools address within 30 s");
        let port = browser_ws
            .trim_start_matches("ws://127.0.0.1:")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let targets: Value = reqwest::get(format!("http://127.0.0.1:{port}/json/list"))
            .await
            .expect("DevTools answers")
            .json()
            .await
            .expect("a JSON list of targets");
        let page_ws = targets
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_owned();
        let (page, _) = tokio_tungstenite::connect_async(page_ws.as_str())
            .await
            .expect("connect to the page");
        Browser {
            child,
            profile,
            browser_ws,
            page,
            next_id: 0,
        }
    }

    /// One DevTools command on the page; its result, or its error message.
    pub async fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let command = json!({"id": id, "method": method, "params": params});
        self.page
            .send(Message::text(command.to_string()))
            .await
            .map_err(|e| e.to_string())?;
        let answer = async {
            while let Some(message) = self.page.next().await {
                let Ok(Message::Text(text)) = message else {
                    continue;
                };
                let Ok(value) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                // Events (no id) and other answers are not waited for.
                if value["id"] == id {
                    return match value.get("error") {
                        Some(error) => Err(error.to_string()),
                        None => Ok(value["result"].clone()),
                    };
                }
            }
            Err("the page's DevTools connection closed".to_owned())
        };
        tokio::time::timeout(Duration::from_secs(10), answer)
            .await
            .map_err(|_| format!("{method}: no answer within 10 s"))?
    }

    pub async fn navigate(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }))
            .await
            .unwrap_or_else(|e| panic!("navigate to {url}: {e}"));
    }

    /// The value of a JavaScript expression in the page.
    pub async fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            )
            .await?;
        if let Some(exception) = result.get("exceptionDetails") {
            return Err(exception.to_string());
        }
        Ok(result["result"]["value"].clone())
    }

    /// Waits until `expression` is `true` in the page (a page being replaced
    /// counts as not yet); panics after `within`.
    pub async fn wait_for(&mut self, expression: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            if self.eval(expression).await == Ok(Value::Bool(true)) {
                return;
            }
            let location = self.eval("location.href").await;
            assert!(
                Instant::now() < deadline,
                "{expression} not true within {within:?}; the page is at {location:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A PNG of the page as shown, into `path`.
    pub async fn screenshot(&mut self, path: &std::path::Path) {
        use base64::Engine;
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await
            .expect("a screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .expect("base64 PNG");
        std::fs::write(path, png).unwrap();
    }

    /// Closes the browser through DevTools, as a person closing it would.
    pub async fn close(mut self) {
        if let Ok((mut browser, _)) =
            tokio_tungstenite::connect_async(self.browser_ws.as_str()).await
        {
            let close = json!({"id": 1, "method": "Browser.close"}).to_string();
            let _ = browser.send(Message::text(close)).await;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.page.close(None).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Only the browser this harness started, by its own handle.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
