package io.spillway.spill;

import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.web.bind.MissingRequestHeaderException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/** Maps the store's failures to HTTP statuses with RFC 9457 problem bodies. */
@RestControllerAdvice(assignableTypes = SpillController.class)
class SpillErrors {

    @ExceptionHandler
    ProblemDetail conflict(VersionConflictException e) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.CONFLICT, e.getMessage());
        problem.setProperty("sessionId", e.sessionId());
        problem.setProperty("expectedVersion", e.expectedVersion());
        problem.setProperty("currentVersion", e.currentVersion());
        return problem;
    }

    @ExceptionHandler
    ProblemDetail tooLarge(BlobTooLargeException e) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.CONTENT_TOO_LARGE, e.getMessage());
        problem.setProperty("maxBytes", e.maxBytes());
        return problem;
    }

    @ExceptionHandler
    ProblemDetail notFound(SpillNotFoundException e) {
        return ProblemDetail.forStatusAndDetail(HttpStatus.NOT_FOUND, e.getMessage());
    }

    @ExceptionHandler
    ProblemDetail badSessionId(InvalidSessionIdException e) {
        return ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, e.getMessage());
    }

    @ExceptionHandler
    ProblemDetail missingHeader(MissingRequestHeaderException e) {
        return ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, "missing header " + e.getHeaderName());
    }
}
