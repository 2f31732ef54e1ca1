package io.spillway.engine.chat;

import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import java.io.Serial;
import java.lang.reflect.Method;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Locale;

/** The global functions transformers adds to the Jinja environment of chat templates. */
final class TemplateFunctions {

    /**
     * What {@code raise_exception(msg)} throws. Jinjava records exceptions from expressions as
     * template errors and goes on rendering; the renderer finds this one among their causes.
     */
    static final class Raised extends RuntimeException {
        @Serial
        private static final long serialVersionUID = 1L;

        Raised(String message) {
            super(message);
        }
    }

    private TemplateFunctions() {
    }

    static List<ELFunctionDefinition> all() {
        return List.of(
                function("raise_exception", "raiseException", Object.class),
                function("strftime_now", "strftimeNow", String.class));
    }

    static Object raiseException(Object message) {
        throw new Raised(String.valueOf(message));
    }

    static String strftimeNow(String format) {
        return StrftimeFormatter.format(ZonedDateTime.now(), format, Locale.ENGLISH);
    }

    private static ELFunctionDefinition function(String name, String javaName, Class<?> parameter) {
        try {
            Method method = TemplateFunctions.class.getDeclaredMethod(javaName, parameter);
            // Jinjava calls it by reflection from its own package.
            method.setAccessible(true);
            return new ELFunctionDefinition("", name, method);
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
    }
}
