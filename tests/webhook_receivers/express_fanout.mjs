// One endpoint — fan out to any number of customers
app.post('/webhooks/provelio', (req, res) => {
const { event, data } = req.body
const { customerId, orderId } = data.metadata // your routing keys
if (event === 'certificate.confirmed') {
notifyCustomer(customerId, { orderId, publicId: data.publicId })
}
res.status(200).end()
})
