module qemupack

go 1.26.8

require github.com/hashicorp/go-version v1.9.0

require (
	github.com/magefile/mage v1.17.2 // indirect
	github.com/ulikunitz/xz v0.5.17 // indirect
)

tool github.com/magefile/mage
