/* jpage: POSTs params to proxyUrl */
