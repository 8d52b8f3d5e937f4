// Node.js — Express
import crypto from 'crypto'
app.post('/webhooks/provelio', express.raw({ type: 'application/json' }), (req, res) => {
const sig = req.headers['x-provelio-signature']
const expected = crypto
.createHmac('sha256', process.env.PROVELIO_WEBHOOK_SECRET)
.update(req.body)
.digest('hex')
if (!crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(expected))) {
return res.status(401).end()
}
const event = JSON.parse(req.body)
if (event.event === 'certificate.confirmed') {
// your logic here
}
res.status(200).end()
})
