package io.spillway.gateway.auth;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.HandlerInterceptor;

/**
 * Authenticates every {@code /v1} call before its body is read, so a caller without a valid key
 * gets 401 whatever it sent. The handler finds the caller in the {@link #ATTRIBUTE} request attribute.
 */
@Component
public final class ApiKeyInterceptor implements HandlerInterceptor {

  /** Request attribute holding the authenticated {@link ApiKey}. */
  public static final String ATTRIBUTE = "io.spillway.gateway.auth.ApiKey";

  private final ApiKeys apiKeys;

  public ApiKeyInterceptor(ApiKeys apiKeys) {
    this.apiKeys = apiKeys;
  }

  @Override
  public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
    request.setAttribute(ATTRIBUTE, apiKeys.authenticate(request.getHeader(HttpHeaders.AUTHORIZATION)));
    return true;
  }
}
