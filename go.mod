module qemupack

go 1.26.8

require github.com/hashicorp/go-version v1.9.0

require (
	github.com/magefile/mage v1.17.2 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

tool github.com/magefile/mage
