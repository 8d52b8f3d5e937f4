"""Pay-per-request timestamps over L402 (``POST /api/l402``): macaroons bound to one
request and one Lightning invoice, the endpoint's four actions, pricing, and the
status-change notifications of L402 timestamps."""
