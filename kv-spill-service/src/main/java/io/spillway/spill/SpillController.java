package io.spillway.spill;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

import java.io.IOException;

/**
 * The spill API. Bodies go straight between the servlet streams and the store, so a blob is never
 * held in memory whole.
 */
@RestController
@RequestMapping("/v1/spills/{sessionId}")
class SpillController {
    static final String SHA256_HEADER = "X-Spill-Sha256";

    private final SpillStore store;
    private final ObjectProvider<SessionDirectory> directory;

    SpillController(SpillStore store, ObjectProvider<SessionDirectory> directory) {
        this.store = store;
        this.directory = directory;
    }

    /** What a PUT answers: the new version to send as {@code If-Match} next time. */
    record PutResult(String sessionId, long version, long bytes, String sha256) {
    }

    @PutMapping
    ResponseEntity<PutResult> put(@PathVariable("sessionId") String sessionId, @RequestHeader(HttpHeaders.IF_MATCH) String ifMatch,
                                  HttpServletRequest request) throws IOException {
        SessionIds.require(sessionId);
        Stored stored = store.put(sessionId, expectedVersion(ifMatch), request.getInputStream());
        return ResponseEntity.status(HttpStatus.CREATED).eTag(Long.toString(stored.version()))
                .body(new PutResult(sessionId, stored.version(), stored.bytes(), stored.sha256()));
    }

    @GetMapping
    void get(@PathVariable("sessionId") String sessionId, HttpServletResponse response) throws IOException {
        try (StoredBlob blob = store.get(sessionId).orElseThrow(() -> new SpillNotFoundException(sessionId))) {
            writeHeaders(blob.stored(), response);
            blob.content().transferTo(response.getOutputStream());
        }
    }

    /** Explicit, because Spring's implicit HEAD would run the GET and stream the whole blob into the void. */
    @RequestMapping(method = RequestMethod.HEAD)
    void head(@PathVariable("sessionId") String sessionId, HttpServletResponse response) throws IOException {
        writeHeaders(store.find(sessionId).orElseThrow(() -> new SpillNotFoundException(sessionId)), response);
    }

    @DeleteMapping
    ResponseEntity<Void> delete(@PathVariable("sessionId") String sessionId) throws IOException {
        if (!store.delete(sessionId)) {
            throw new SpillNotFoundException(sessionId);
        }
        directory.ifAvailable(d -> d.spillDeleted(sessionId));
        return ResponseEntity.noContent().build();
    }

    private static void writeHeaders(Stored stored, HttpServletResponse response) {
        response.setContentType(MediaType.APPLICATION_OCTET_STREAM_VALUE);
        response.setContentLengthLong(stored.bytes());
        response.setHeader(HttpHeaders.ETAG, "\"" + stored.version() + "\"");
        response.setHeader(SHA256_HEADER, stored.sha256());
    }

    /** Accepts the bare version and the quoted ETag form that GET returns. */
    private static long expectedVersion(String ifMatch) {
        String value = ifMatch.trim();
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
            value = value.substring(1, value.length() - 1);
        }
        try {
            long version = Long.parseLong(value);
            if (version >= 0) {
                return version;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "If-Match must be the expected version (0 for a new session): " + ifMatch);
    }
}
