"""The Telegram side of the services: adapters that services call through their protocols
(the runner's Messenger: progress, the finished video, failure notices; the Stars gateway:
refunds and the payments Telegram has). Routers live in `handlers/`."""
