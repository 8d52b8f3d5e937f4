# ruff: noqa
# fmt: off
# The Flask receiver from the published webhook documentation, as written there, with
# only the header and environment variable names changed to notarium's. Kept verbatim
# (imports, quotes and all) so the test proves that copied receivers work unmodified.

# Python — Flask
import hmac, hashlib, os
from flask import Flask, request, abort
app = Flask(__name__)
@app.route('/webhooks/notarium', methods=['POST'])
def webhook():
    sig = request.headers.get('X-Notarium-Signature', '')
    expected = hmac.new(
        os.environ['NOTARIUM_WEBHOOK_SECRET'].encode(),
        request.data,
        hashlib.sha256,
    ).hexdigest()
    if not hmac.compare_digest(sig, expected):
        abort(401)
    event = request.json
    if event['event'] == 'certificate.confirmed':
        pass # your logic here
    return '', 200
