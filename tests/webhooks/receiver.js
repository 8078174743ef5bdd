// A webhook receiver for tests/integration/test_webhooks.c: every request
// is verified with the Standard Webhooks reference library (the npm
// package `standardwebhooks`, not our code) and recorded as one JSON line
// in the log file:
//   {path, id, timestamp, verified, error, status, type, change_id, at_ms}
//
// Usage: node receiver.js PORT LOGFILE SECRETSFILE
// SECRETSFILE is JSON {"/path": "whsec_..."}, read on every request (the
// test writes it once it has created the endpoints). The answer depends
// on the path's first segment:
//   /ok/...      200
//   /flaky/...   500 to the first request of each webhook-id (per path), then 200
//   /gone/...    410
//   /fail/...    500, always
//   /slow/...    200 after 3 s
// Prints "listening" once it accepts connections.
"use strict";
const http = require("http");
const fs = require("fs");
const { Webhook } = require("standardwebhooks");

const [port, logFile, secretsFile] = process.argv.slice(2);
const seen = new Map();

function record(entry) {
    fs.appendFileSync(logFile, JSON.stringify(entry) + "\n");
}

http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        let secrets = {};
        try {
            secrets = JSON.parse(fs.readFileSync(secretsFile, "utf8"));
        } catch (e) {
            secrets = {};
        }
        const entry = {
            path: req.url, id: req.headers["webhook-id"] || null,
            timestamp: req.headers["webhook-timestamp"] || null,
            verified: false, error: null, status: 0, type: null, change_id: null,
            at_ms: Date.now(),
        };
        try {
            const secret = secrets[req.url];
            if (!secret)
                throw new Error("no secret for " + req.url);
            const msg = new Webhook(secret).verify(body, req.headers);
            entry.verified = true;
            entry.type = msg.type;
            entry.change_id = typeof msg.id === "number" ? msg.id : null;
            if (req.headers["content-type"] !== "application/json")
                throw new Error("content-type " + req.headers["content-type"]);
        } catch (e) {
            entry.verified = false;
            entry.error = String(e && e.message ? e.message : e);
        }
        const kind = req.url.split("/")[1];
        let status = 200;
        if (kind === "flaky") {
            const key = req.url + " " + entry.id;
            const n = (seen.get(key) || 0) + 1;
            seen.set(key, n);
            status = n === 1 ? 500 : 200;
        } else if (kind === "gone") {
            status = 410;
        } else if (kind === "fail") {
            status = 500;
        }
        entry.status = status;
        const answer = () => {
            record(entry);
            res.writeHead(status, { "Content-Type": "text/plain" });
            res.end(status === 500 ? "try again later\n" : "ok\n");
        };
        if (kind === "slow")
            setTimeout(answer, 3000);
        else
            answer();
    });
}).listen(Number(port), "127.0.0.1", () => {
    process.stdout.write("listening\n");
});
