package httpapi

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tagd-nfc/tagd"
)

// BackupStore streams a consistent copy of the database; *store.DB
// satisfies it. The server finds it on Manage (or Scans).
type BackupStore interface {
	// BackupTo calls start with the copy's exact size, then writes the
	// copy to w from one read transaction.
	BackupTo(ctx context.Context, w io.Writer, start func(size int64)) (int64, error)
}

// backupWriteWindow is how long one write of a backup may take: the
// download may last longer than the server's write timeout as long as it
// makes progress.
const backupWriteWindow = 30 * time.Second

// handleBackup is GET /api/v1/backup: the database file, streamed from one
// read transaction while taps and writes go on (application/octet-stream,
// with Content-Length and a Content-Disposition naming tagd-TIME.db).
func (s *Server) handleBackup(w http.ResponseWriter, r *http.Request) {
	b, ok := s.Manage.(BackupStore)
	if !ok {
		b, ok = s.Scans.(BackupStore)
	}
	if !ok {
		s.writeError(w, tagd.Errorf(tagd.CodeInternal, "httpapi: no store to back up"))
		return
	}
	rc := http.NewResponseController(w)
	started := false
	name := "tagd-" + s.now().UTC().Format("20060102T150405Z") + ".db"
	n, err := b.BackupTo(r.Context(), progressWriter{w: w, rc: rc}, func(size int64) {
		started = true
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		_ = rc.SetWriteDeadline(time.Now().Add(backupWriteWindow))
		w.WriteHeader(http.StatusOK)
	})
	if err == nil {
		return
	}
	if !started {
		s.writeError(w, err)
		return
	}
	// The status is sent: cut the connection so that the client sees a
	// short body rather than a complete-looking file.
	s.logger().Warn("backup aborted", "bytes", n, "err", err)
	panic(http.ErrAbortHandler)
}

// progressWriter extends the write deadline before every write.
type progressWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (p progressWriter) Write(b []byte) (int, error) {
	_ = p.rc.SetWriteDeadline(time.Now().Add(backupWriteWindow))
	return p.w.Write(b)
}

// RestoreStore replaces the open database with a backup; *store.DB
// satisfies it. The server finds it on Manage.
type RestoreStore interface {
	// RestoreFrom checks the backup read from r and, if it is one of
	// this database, makes it the database; it returns the backup's size.
	RestoreFrom(ctx context.Context, r io.Reader) (int64, error)
}

// restoreWindow bounds the upload and the check of a backup on the admin
// socket, beyond the server's usual timeouts.
const restoreWindow = 10 * time.Minute

// handleRestore is POST /api/v1/restore on the admin socket: the body is a
// backup (GET /api/v1/backup, `tagd backup`) of this appliance's database.
// It is checked, then replaces the database while the service runs; a
// file that is not such a backup is refused (400) and changes nothing.
func (s *Server) handleRestore(w http.ResponseWriter, r *http.Request) {
	rs, ok := s.Manage.(RestoreStore)
	if !ok {
		s.writeError(w, tagd.Errorf(tagd.CodeInternal, "httpapi: no store to restore"))
		return
	}
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(restoreWindow) // a socket deadline: real time, not the server's clock
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline)
	n, err := rs.RestoreFrom(r.Context(), r.Body)
	if err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, []byte(`{"restored_bytes":`+strconv.FormatInt(n, 10)+`,"previous":"kept as tagd.db.bak"}`))
}
