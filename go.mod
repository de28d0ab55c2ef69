module github.com/tagd-nfc/tagd

go 1.26

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/ebfe/scard v0.0.0-20241214075232-7af069cabc25
	github.com/gorilla/websocket v1.5.3
	github.com/tarm/serial v0.0.0-20180830185346-98f6abe2eb07
	go.etcd.io/bbolt v1.4.3
)

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	golang.org/x/sys v0.29.0 // indirect
)
