// Package debian is qemupack's one way into Debian's (or Ubuntu's) signed
// archive and its one reader of Debian's formats.
//
// The archive is read through a private apt tree under the cache (the idea
// of devscripts' chdist): its own sources.list, package lists, download
// folders and an empty dpkg status, all named by one apt configuration file
// given to apt-get and apt-cache through APT_CONFIG. Nothing under /etc is
// read for sources or changed, no deb-src line is needed on the system, no
// root is needed, and apt does every signature and checksum check: the
// archive's InRelease against the distribution's keyring (signed-by=),
// every index against InRelease, every downloaded file against its index.
//
// The tree lists the host's suite (bookworm: bookworm, -updates, -security)
// and further suites (by default the newer stable releases, testing and
// unstable), both their source packages and their binary packages of
// architecture all and amd64 (more on request). Every source and binary
// version of every suite can be listed, downloaded and (for .deb files)
// unpacked.
//
// The package also holds the Debian formats qemupack reads: version
// ordering and the upstream release a Debian version repacks, .dsc and
// index stanzas, quilt series and the VERSION changes in Debian's QEMU
// patches.
package debian
