//go:build !unix

package freshroot

import "io/fs"

func owner(fs.FileInfo) (uid, gid int) { return -1, -1 }
