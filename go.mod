module github.com/tagd-nfc/tagd

go 1.26

require go.etcd.io/bbolt v1.4.3

require (
	github.com/ebfe/scard v0.0.0-20241214075232-7af069cabc25 // indirect
	github.com/tarm/serial v0.0.0-20180830185346-98f6abe2eb07 // indirect
	golang.org/x/sys v0.29.0 // indirect
)
