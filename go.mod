module qemupack

go 1.26.8

require (
	github.com/hashicorp/go-version v1.9.0
	github.com/magefile/mage v1.17.2
	golang.org/x/crypto v0.59.0
	gopkg.in/yaml.v3 v3.0.1
)

require golang.org/x/sys v0.50.0 // indirect

tool github.com/magefile/mage
