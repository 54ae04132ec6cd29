package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/lexicon"
	"github.com/koe-voice/koe/internal/logging"
)

// Lexicon is what /v1/lexicon needs of people's pronunciation lexicons.
type Lexicon interface {
	// Export writes the user's entries of language ("" for all) as a PLS
	// document; BAD_USER_INPUT on "language" for a bad tag.
	Export(ctx context.Context, userID, language string, w io.Writer) error
	// Import reads a PLS document into the user's lexicon in one
	// transaction (replace: the document becomes the whole lexicon);
	// BAD_USER_INPUT naming the place at fault, and nothing changed.
	Import(ctx context.Context, userID string, r io.Reader, replace bool) (*lexicon.Imported, error)
}

// serveLexicon is /v1/lexicon, the caller's pronunciation lexicon as W3C
// PLS 1.0 XML: GET exports it (?language=en: only the entries of en; else
// every entry), PUT imports a document (merging by grapheme and language;
// ?replace=true: the document becomes the whole lexicon). It runs behind
// authenticate and the rate limit, as /query does.
func serveLexicon(c Config) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		p, err := auth.Require(ctx)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="koe"`)
			writeRESTError(ctx, c.Log, w, err)
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			exportLexicon(ctx, c, w, p.UserID, r.URL.Query().Get("language"))
		case http.MethodPut:
			importLexicon(ctx, c, w, r, p.UserID)
		default:
			w.Header().Set("Allow", "GET, HEAD, PUT")
			writeAppError(ctx, w, http.StatusMethodNotAllowed, apperror.New(apperror.BadUserInput, "/v1/lexicon takes GET and PUT"))
		}
	}
}

// exportLexicon answers the document whole, or an error: it is made in
// memory first (a lexicon is a few MB at most), so a failure half-way
// never passes for a short lexicon.
func exportLexicon(ctx context.Context, c Config, w http.ResponseWriter, userID, language string) {
	var doc bytes.Buffer
	if err := c.Lexicon.Export(ctx, userID, language, &doc); err != nil {
		writeRESTError(ctx, c.Log, w, err)
		return
	}
	name := "koe-lexicon.pls"
	if language != "" {
		name = "koe-lexicon-" + language + ".pls"
	}
	h := w.Header()
	h.Set("Content-Type", lexicon.PLSContentType+"; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+sanitizeFilename(name)+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(doc.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc.Bytes())
}

func importLexicon(ctx context.Context, c Config, w http.ResponseWriter, r *http.Request, userID string) {
	replace := false
	if v := r.URL.Query().Get("replace"); v != "" {
		var err error
		if replace, err = strconv.ParseBool(v); err != nil {
			writeRESTError(ctx, c.Log, w, apperror.Invalid("replace", "must be true or false"))
			return
		}
	}
	out, err := c.Lexicon.Import(ctx, userID, r.Body, replace)
	if err != nil {
		writeRESTError(ctx, c.Log, w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// sanitizeFilename keeps a download's name to letters, digits, dots and
// dashes: the language in it comes from the query string.
func sanitizeFilename(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}

// writeRESTError answers err as GraphQL errors look (errors[0].message and
// extensions.code, .field), with the HTTP status of its code, the message
// in the request's language; anything but an *apperror.Error is logged
// and answered as INTERNAL_SERVER_ERROR with the request id.
func writeRESTError(ctx context.Context, log *slog.Logger, w http.ResponseWriter, err error) {
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		err = apperror.New(apperror.BadUserInput, "the request body is over %d bytes", tooLarge.Limit)
		writeAppError(ctx, w, http.StatusRequestEntityTooLarge, err.(*apperror.Error))
		return
	}
	e, ok := apperror.As(err)
	if !ok {
		log.ErrorContext(ctx, "lexicon", "err", err)
		e = apperror.New(apperror.Internal, "internal server error; quote request id %s when asking for help", logging.RequestID(ctx))
	}
	status := http.StatusInternalServerError
	switch e.Code {
	case apperror.BadUserInput:
		status = http.StatusBadRequest
	case apperror.Unauthenticated:
		status = http.StatusUnauthorized
	case apperror.Forbidden:
		status = http.StatusForbidden
	case apperror.NotFound:
		status = http.StatusNotFound
	}
	writeAppError(ctx, w, status, e)
}

func writeAppError(ctx context.Context, w http.ResponseWriter, status int, e *apperror.Error) {
	ext := map[string]any{"code": string(e.Code)}
	if e.Field != "" {
		ext["field"] = e.Field
	}
	writeJSON(w, status, map[string]any{"errors": []map[string]any{{"message": e.MessageIn(auth.Locale(ctx)), "extensions": ext}}})
}
