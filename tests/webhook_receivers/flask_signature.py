# Python — Flask
import hmac, hashlib, os
from flask import Flask, request, abort
app = Flask(__name__)
@app.route('/webhooks/provelio', methods=['POST'])
def webhook():
    sig = request.headers.get('X-Provelio-Signature', '')
    expected = hmac.new(
        os.environ['PROVELIO_WEBHOOK_SECRET'].encode(),
        request.data,
        hashlib.sha256,
    ).hexdigest()
    if not hmac.compare_digest(sig, expected):
        abort(401)
    event = request.json
    if event['event'] == 'certificate.confirmed':
        pass # your logic here
    return '', 200
