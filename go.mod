module github.com/tagd-nfc/tagd

go 1.26
