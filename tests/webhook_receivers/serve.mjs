// Runs one of the certificates document's Express snippets, unchanged, as a real server.
// The snippets use `app` and `express` without defining them (the reader's application
// does), so they are provided here as globals before the snippet is imported. The
// fan-out snippet reads `req.body` as parsed JSON and calls the reader's own
// `notifyCustomer`, so for it this adds `express.json()` and a `notifyCustomer` that
// records its calls, readable at GET /notified. Prints the port, then serves until killed.
//
// usage: node serve.mjs express_signature.mjs | express_fanout.mjs
import express from 'express'

const snippet = process.argv[2]
const app = express()
const notified = []
globalThis.app = app
globalThis.express = express
globalThis.notifyCustomer = (customerId, details) => {
  notified.push({ customerId, ...details })
}
if (snippet === 'express_fanout.mjs') {
  app.use(express.json())
}
await import(new URL(snippet, import.meta.url))
app.get('/notified', (req, res) => res.json(notified))
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`)
})
