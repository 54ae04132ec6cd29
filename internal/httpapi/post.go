package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// POST is gqlgen's POST transport answering in application/json, except
// that it writes the response's data as the executor rendered it.
// gqlgen's marshals the whole response with encoding/json, which checks and
// compacts the rendered data again, byte by byte: 5 % of the CPU of a page
// of generations. Requests that accept only another type
// (application/graphql-response+json) are left to gqlgen's.
type POST struct{ transport.POST }

// Do answers one request. The errors and status codes are gqlgen's, except
// that a body that is not JSON is not quoted back in the error (gqlgen's
// would echo a 2 MB body in full).
func (t POST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.Header().Set("Content-Type", responseType(r))
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("could not read request body: %+v", err)}))
		return
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		w.Header().Set("Content-Type", responseType(r))
		w.WriteHeader(http.StatusBadRequest)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("json request body could not be decoded: %+v", err)}))
		return
	}
	if !acceptsJSON(r.Header.Get("Accept")) {
		r.Body = io.NopCloser(bytes.NewReader(body))
		t.POST.Do(w, r, exec)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	rc, opErr := exec.CreateOperationContext(ctx, &params)
	if opErr != nil {
		if errcode.GetErrorKind(opErr) == errcode.KindProtocol {
			w.WriteHeader(http.StatusUnprocessableEntity)
		}
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, responses(ctx))
}

// responseType is the content type gqlgen answers r in.
func responseType(r *http.Request) string {
	if acceptsJSON(r.Header.Get("Accept")) {
		return "application/json"
	}
	return "application/graphql-response+json"
}

// acceptsJSON reports whether a client with this Accept header takes
// application/json, which is what gqlgen answers when it is absent or when
// application/json comes before application/graphql-response+json.
func acceptsJSON(accept string) bool {
	if accept == "" {
		return true
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", "application/json":
			return true
		case "application/graphql-response+json":
			return false
		}
	}
	return false
}

// writeResponse writes resp as encoding/json would, with its data as is.
func writeResponse(w io.Writer, resp *graphql.Response) {
	rest, err := json.Marshal(struct {
		Errors     gqlerror.List  `json:"errors,omitempty"`
		Label      string         `json:"label,omitempty"`
		Path       ast.Path       `json:"path,omitempty"`
		HasNext    *bool          `json:"hasNext,omitempty"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Errors, resp.Label, resp.Path, resp.HasNext, resp.Extensions})
	if err != nil {
		panic(err)
	}
	var b bytes.Buffer
	b.Grow(len(resp.Data) + len(rest) + 10)
	b.WriteString(`{"data":`)
	if resp.Data == nil {
		b.WriteString("null")
	} else {
		b.Write(resp.Data)
	}
	if len(rest) > 2 {
		b.WriteByte(',')
		b.Write(rest[1:])
	} else {
		b.WriteByte('}')
	}
	_, _ = w.Write(b.Bytes())
}
