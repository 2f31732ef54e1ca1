package io.spillway.engine.chat;

import java.beans.FeatureDescriptor;
import java.util.Iterator;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Puts {@link PythonStrings} in front of Jinjava's bean resolver: calls of the Python str methods,
 * and Python indexing of strings ({@code s[0]}, {@code s[-1]}), which Jinjava does not resolve.
 */
final class PythonStringResolver extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (base instanceof String s && method instanceof String name && PythonStrings.METHODS.contains(name)) {
            Object result = PythonStrings.call(s, name, params);
            context.setPropertyResolved(true);
            return result;
        }
        return null;
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        if (base instanceof String s && property != null) {
            try {
                // Jinjava hands bracket indices over as strings.
                long index = Long.parseLong(property.toString());
                context.setPropertyResolved(true);
                return PythonStrings.charAt(s, index);
            } catch (NumberFormatException notAnIndex) {
                return null;
            }
        }
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // Strings are immutable: leave the write to the resolvers that will reject it.
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return base instanceof String ? Object.class : null;
    }
}
