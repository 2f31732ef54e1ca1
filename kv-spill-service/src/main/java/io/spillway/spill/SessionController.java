package io.spillway.spill;

import io.spillway.schemas.SessionState;
import io.spillway.schemas.SessionStatus;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.ErrorResponseException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.util.List;

/** The session directory over HTTP, read-only: the workers write it through Kafka. */
@RestController
@RequestMapping("/v1/sessions")
class SessionController {
    static final int MAX_LIMIT = 1000;

    private final ObjectProvider<SessionDirectory> directory;

    SessionController(ObjectProvider<SessionDirectory> directory) {
        this.directory = directory;
    }

    /** A {@code SessionState} as JSON (the Avro record itself would drag its schema along). */
    record Entry(String sessionId, String apiKeyId, SessionStatus state, String workerId, String location, String kvMethod,
                 int tokenCount, long bytes, String modelFingerprint, long updatedAtMs, long version) {
        static Entry of(SessionState s) {
            return new Entry(s.getSessionId(), s.getApiKeyId(), s.getState(), s.getWorkerId(), s.getLocation(), s.getKvMethod(),
                    s.getTokenCount(), s.getBytes(), s.getModelFingerprint(), s.getUpdatedAtMs(), s.getVersion());
        }
    }

    record Listing(List<Entry> sessions, String next) {
    }

    @GetMapping("/{sessionId}")
    Entry get(@PathVariable("sessionId") String sessionId) {
        SessionState state = directory().find(sessionId).orElseThrow(() -> notFound(sessionId, "unknown session " + sessionId));
        if (state.getState() == SessionStatus.DELETED) {
            ErrorResponseException deleted = notFound(sessionId, "session " + sessionId + " was deleted");
            // A worker that starts the session again writes a version above this one.
            deleted.getBody().setProperty("state", SessionStatus.DELETED);
            deleted.getBody().setProperty("version", state.getVersion());
            throw deleted;
        }
        return Entry.of(state);
    }

    @GetMapping
    Listing list(@RequestParam(name = "worker", required = false) String worker, @RequestParam(name = "after", required = false) String after,
                 @RequestParam(name = "limit", defaultValue = "100") int limit) {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new ErrorResponseException(HttpStatus.BAD_REQUEST,
                    ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, "limit must be 1.." + MAX_LIMIT + ": " + limit), null);
        }
        SessionDirectory.Page page = directory().list(worker, after, limit);
        return new Listing(page.sessions().stream().map(Entry::of).toList(), page.next());
    }

    /** Answered here with its problem body: Spring's default resolver would send the bare status to the error page. */
    @ExceptionHandler
    ResponseEntity<ProblemDetail> problem(ErrorResponseException e) {
        return ResponseEntity.status(e.getStatusCode()).body(e.getBody());
    }

    @ExceptionHandler
    ResponseEntity<ProblemDetail> unavailable(DirectoryUnavailableException e) {
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header(HttpHeaders.RETRY_AFTER, "1")
                .body(ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE, e.getMessage()));
    }

    private SessionDirectory directory() {
        SessionDirectory found = directory.getIfAvailable();
        if (found == null) {
            throw new ErrorResponseException(HttpStatus.NOT_IMPLEMENTED, ProblemDetail.forStatusAndDetail(HttpStatus.NOT_IMPLEMENTED,
                    "the session directory is off: spillway.spill.kafka.bootstrap-servers is not set"), null);
        }
        return found;
    }

    private static ErrorResponseException notFound(String sessionId, String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.NOT_FOUND, detail);
        problem.setProperty("sessionId", sessionId);
        return new ErrorResponseException(HttpStatus.NOT_FOUND, problem, null);
    }
}
