"""The sandbox instance shared by the route handlers."""

from aiohttp import web

from sandboxes.btcpay.sandbox import BtcpaySandbox

SANDBOX = web.AppKey("btcpay_sandbox", BtcpaySandbox)
