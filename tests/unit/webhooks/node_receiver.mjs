// The Express receiver from the published webhook documentation, on plain node:http so
// the test needs nothing beyond node itself. The check is the document's, line for line:
// createHmac over the raw body keyed with the secret string, then timingSafeEqual. A
// throw (timingSafeEqual on unequal lengths, a missing header) answers 500, as Express's
// default error handler would. Prints the port it listens on, then serves until killed.
import crypto from 'node:crypto'
import http from 'node:http'

const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => {
    try {
      const body = Buffer.concat(chunks)
      const sig = req.headers['x-notarium-signature']
      const expected = crypto
        .createHmac('sha256', process.env.NOTARIUM_WEBHOOK_SECRET)
        .update(body)
        .digest('hex')
      if (!crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(expected))) {
        res.statusCode = 401
        return res.end()
      }
      const event = JSON.parse(body)
      if (event.event === 'certificate.confirmed') {
        // your logic here
      }
      res.statusCode = 200
      res.end()
    } catch (err) {
      res.statusCode = 500
      res.end(String(err))
    }
  })
})

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`)
})
